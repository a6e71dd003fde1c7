/** Advisor directory: a placeholder until it is built (see screens/registry.ts for how screens are added). */
import { Placeholder } from "../components/Placeholder.tsx";

export function AdvisorDirectory() {
  return <Placeholder title="Advisor directory" plan="The branch's advisors, their licences and live status (GET /v1/branches/{id}/advisors)." />;
}

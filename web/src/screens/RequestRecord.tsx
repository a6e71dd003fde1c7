/** Request record: a placeholder until it is built (see screens/registry.ts for how screens are added). */
import { Placeholder } from "../components/Placeholder.tsx";

export function RequestRecord() {
  return (
    <Placeholder title="Request record" plan="A request's full record: its events, offers, messages and the audit chain (GET /v1/requests/{id}/record)." />
  );
}

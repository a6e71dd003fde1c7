/** Incentive rules: a placeholder until it is built (see screens/registry.ts for how screens are added). */
import { Placeholder } from "../components/Placeholder.tsx";

export function IncentiveRules() {
  return <Placeholder title="Incentive rules" plan="The branch's incentive rule set and budget, edited as a form and saved with a version check." />;
}

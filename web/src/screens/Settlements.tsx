/** Leaderboard and settlements: a placeholder until it is built (see screens/registry.ts for how screens are added). */
import { Placeholder } from "../components/Placeholder.tsx";

export function Settlements() {
  return (
    <Placeholder
      title="Leaderboard and settlements"
      plan="Points per advisor this period, closed settlements and their payroll CSV (GET /v1/branches/{id}/settlements)."
    />
  );
}

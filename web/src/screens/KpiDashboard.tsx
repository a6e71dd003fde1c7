/** KPI dashboard: a placeholder until it is built (see screens/registry.ts for how screens are added). */
import { Placeholder } from "../components/Placeholder.tsx";

export function KpiDashboard() {
  return (
    <Placeholder
      title="KPI dashboard"
      plan="Answer and abandonment rates, time to first offer and to accept, utilisation and ratings for the branch, by hour or day (GET /v1/branches/{id}/kpis)."
    />
  );
}

/**
 * Who a surge alert is for: advisors holding a valid licence of the kind in demand who could take
 * a request now or soon: available but with nothing in progress, or away. Busy advisors are already
 * helping, and offline ones are not reachable. (app/realtime/demandAlerts.ts sends the alerts.)
 */
import type { AdvisorSupply } from "./types.ts";

export function couldAnswerSurge(supply: Pick<AdvisorSupply, "presence" | "active">): boolean {
  return (supply.presence === "available" && supply.active === 0) || supply.presence === "away";
}

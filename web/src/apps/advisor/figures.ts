/** The advisor's figures from GET /v1/advisors/me/earnings, as the desk shows them. */
import type { Earnings } from "./types.ts";

/** Points posted today, the advisor's local day (skipped awards earned nothing). */
export function pointsToday(earnings: Earnings, now: Date = new Date()): number {
  const today = now.toDateString();
  return earnings.recent.filter((a) => a.status === "posted" && new Date(a.at).toDateString() === today).reduce((sum, a) => sum + a.points, 0);
}

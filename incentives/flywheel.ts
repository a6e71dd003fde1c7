/**
 * The flywheel: responsiveness and recently earned points become the ranking's incentive input, so
 * advisors who answer fast and earn are offered first, which lets them earn more.
 */
import type { AdvisorStats } from "../matching/domain/types.ts";

/** Points over the last week that count as "fully incentivised" (input 1.0). */
export const RECENT_POINTS_SATURATION = 100;
export const RECENT_WINDOW_MS = 7 * 86_400_000;

/** The responsiveness score: EWMAs of accept latency and acceptance ratio, 0..1, neutral 0.5 when unknown. */
export function responsivenessScore(stats: Pick<AdvisorStats, "latencyEwmaMs" | "acceptEwma">): number {
  const latency = stats.latencyEwmaMs === null ? 0.5 : 1 / (1 + Math.max(0, stats.latencyEwmaMs) / 10_000);
  const acceptance = stats.acceptEwma ?? 0.5;
  return 0.5 * latency + 0.5 * acceptance;
}

/** The ranking's incentive input, 0..1: half responsiveness, half recent points. */
export function incentiveInput(stats: Pick<AdvisorStats, "latencyEwmaMs" | "acceptEwma">, recentPoints: number): number {
  const points = Math.min(1, Math.max(0, recentPoints) / RECENT_POINTS_SATURATION);
  return Math.round((0.5 * responsivenessScore(stats) + 0.5 * points) * 1e6) / 1e6;
}

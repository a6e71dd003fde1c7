/**
 * Which candidate index entries an advisor belongs in: the one rule both store adapters index by, so
 * "what findCandidates promises" cannot drift between Redis and memory.
 */
import type { AdvisorState } from "./port.ts";

export const MIN_SCOPE = 1;
export const MAX_SCOPE = 5;

/**
 * The suitability scope list an advisor belongs in. Fractional scopes round down (the exact
 * comparison is re-done on read), anything above the top level serves every level, and an advisor
 * who cannot serve level 1 serves nobody.
 */
export function scopeOf(suitabilityMaxRisk: number): number | null {
  if (!(suitabilityMaxRisk >= MIN_SCOPE)) return null;
  return Math.min(MAX_SCOPE, Math.floor(suitabilityMaxRisk));
}

/**
 * Whether the advisor belongs in the index at all: only what the store knows for sure. Heartbeat age
 * and licence validity windows depend on the caller's clock, so they are left to eligibility.
 */
export function isIndexable(state: AdvisorState): boolean {
  return state.profile.status === "active" && state.supply.presence === "available" && state.assignments.length < state.profile.maxConcurrent;
}

/**
 * Which candidate index entries an advisor belongs in: the one rule both store adapters index by, so
 * "what findCandidates promises" cannot drift between Redis and memory.
 */
import type { AdvisorState, CandidateQuery } from "./port.ts";

export const MIN_SCOPE = 1;
export const MAX_SCOPE = 5;

/** The language slot that matches a query for any language (and "the national pool" as a pool id). */
export const ANY = "*";

/**
 * The suitability scope list an advisor belongs in. Fractional scopes round down (the exact
 * comparison is re-done on read), anything above the top level serves every level, and an advisor
 * who cannot serve level 1 serves nobody.
 */
export function scopeOf(suitabilityMaxRisk: number): number | null {
  if (!(suitabilityMaxRisk >= MIN_SCOPE)) return null;
  return Math.min(MAX_SCOPE, Math.floor(suitabilityMaxRisk));
}

/** The lowest scope list a query reads (it reads that one and every higher one); NaN reads none. */
export function queryScopeOf(minRisk: number): number {
  return Math.max(MIN_SCOPE, Math.min(MAX_SCOPE, Math.floor(minRisk)));
}

/**
 * Whether the advisor belongs in the index at all: only what the store knows for sure. Heartbeat age
 * and licence validity windows depend on the caller's clock, so they are left to eligibility.
 */
export function isIndexable(state: AdvisorState): boolean {
  return state.profile.status === "active" && state.supply.presence === "available" && state.assignments.length < state.profile.maxConcurrent;
}

/**
 * Whether the advisor, as this state says, belongs in one of the lists `query` reads: the index
 * rule above (indexable, scope, active licence kinds, case-folded languages or "*", the pool)
 * evaluated directly. A reader uses it to drop a stale index entry; it is cheap, because it builds
 * no key names, and tests check it against the Redis key layout (redis/keys.ts).
 */
export function matchesCandidateQuery(state: AdvisorState, query: CandidateQuery): boolean {
  if (!isIndexable(state)) return false;
  const { profile } = state;
  const scope = scopeOf(profile.suitabilityMaxRisk);
  if (scope === null || !(scope >= queryScopeOf(query.minRisk))) return false;
  if (query.pool === "branch" && profile.branchId !== query.poolId) return false;
  if (query.pool === "region" && profile.region !== query.poolId) return false;
  // Loops rather than some(): a reader runs this per candidate, and each callback would be a closure
  // made per call.
  let licensed = false;
  for (const licence of profile.licences) {
    if (licence.status === "active" && licence.kind === query.licence) {
      licensed = true;
      break;
    }
  }
  if (!licensed) return false;
  if (query.language === null) return true;
  // Every indexed advisor is listed under "*", and a language "*" folds into that slot.
  const wanted = query.language.toLowerCase();
  if (wanted === ANY) return true;
  for (const language of profile.languages) if (language.toLowerCase() === wanted) return true;
  return false;
}

/**
 * The candidate lookup behind findCandidates: one ordered list per
 * (pool, poolId, licence kind, language or "*", suitability scope 1..5), each holding the advisors
 * who could take work right now, ordered by (lastAssignedAt, id).
 *
 * Why this shape: a query names exactly one pool, one licence kind and one language, so it reads at
 * most five lists (the scopes that reach its risk level) and merges their heads until it has
 * `limit` advisors. Its cost grows with `limit`, not with the number of registered advisors, which
 * is what the port promises and what the Redis adapter does with one sorted set per key.
 */
import { ANY, isIndexable, MAX_SCOPE, queryScopeOf, scopeOf } from "../candidateMembership.ts";
import type { AdvisorState, CandidateQuery } from "../port.ts";
import { compareScored, ScoreIndex, type ScoredId } from "./scoreIndex.ts";

/** The language key that matches a query for any language. */
const ANY_LANGUAGE = ANY;
/** National is one pool for everyone, whatever poolId the caller passes. */
const NATIONAL_POOL_ID = ANY;

/** A separator that cannot appear in ids, region names or language codes, so keys never collide. */
const SEP = "\u0000";

function indexKey(pool: CandidateQuery["pool"], poolId: string, licence: string, language: string, scope: number): string {
  return [pool, poolId, licence, language, scope].join(SEP);
}

/**
 * Language codes arrive in different cases from different systems; eligibility compares them
 * case-folded (checkEligibility), so the index must too or it would hide eligible advisors.
 */
function foldLanguage(language: string): string {
  return language.toLowerCase();
}

/** Every list the advisor belongs in right now; empty when not indexable. */
function keysFor(state: AdvisorState): string[] {
  if (!isIndexable(state)) return [];
  const { profile } = state;
  const scope = scopeOf(profile.suitabilityMaxRisk);
  if (scope === null) return [];

  const kinds = new Set(profile.licences.filter((licence) => licence.status === "active").map((licence) => licence.kind));
  const languages = new Set([ANY_LANGUAGE, ...profile.languages.map(foldLanguage)]);
  const pools: Array<[CandidateQuery["pool"], string]> = [
    ["branch", profile.branchId],
    ["region", profile.region],
    ["national", NATIONAL_POOL_ID],
  ];

  const keys: string[] = [];
  for (const [pool, poolId] of pools) {
    for (const kind of kinds) {
      for (const language of languages) keys.push(indexKey(pool, poolId, kind, language, scope));
    }
  }
  return keys;
}

export class CandidateIndex {
  private readonly lists = new Map<string, ScoreIndex>();
  /** advisorId -> the lists it is in, so a re-index removes exactly what it added. */
  private readonly membership = new Map<string, string[]>();

  /** Puts the advisor in exactly the lists its current state calls for, at its current lastAssignedAt. */
  update(state: AdvisorState): void {
    const id = state.profile.id;
    const next = keysFor(state);
    const nextSet = new Set(next);
    for (const key of this.membership.get(id) ?? []) {
      if (!nextSet.has(key)) this.removeFrom(key, id);
    }
    for (const key of next) {
      let list = this.lists.get(key);
      if (!list) {
        list = new ScoreIndex();
        this.lists.set(key, list);
      }
      list.set(id, state.stats.lastAssignedAt);
    }
    if (next.length > 0) this.membership.set(id, next);
    else this.membership.delete(id);
  }

  remove(advisorId: string): void {
    for (const key of this.membership.get(advisorId) ?? []) this.removeFrom(key, advisorId);
    this.membership.delete(advisorId);
  }

  clear(): void {
    this.lists.clear();
    this.membership.clear();
  }

  /**
   * Up to `limit` advisor ids in (lastAssignedAt, id) order, merged from the scope lists that reach
   * `minRisk`. `accept` re-checks each head cheaply (exact suitability, and anything the caller
   * wants to be defensive about); rejected heads are skipped without counting against `limit`.
   */
  query(query: CandidateQuery, accept: (advisorId: string) => boolean): string[] {
    if (!(query.limit > 0)) return [];
    const poolId = query.pool === "national" ? NATIONAL_POOL_ID : query.poolId;
    const language = query.language === null ? ANY_LANGUAGE : foldLanguage(query.language);
    const fromScope = queryScopeOf(query.minRisk);
    if (Number.isNaN(fromScope)) return [];

    const lists: ScoreIndex[] = [];
    for (let scope = fromScope; scope <= MAX_SCOPE; scope++) {
      const list = this.lists.get(indexKey(query.pool, poolId, query.licence, language, scope));
      if (list && list.size > 0) lists.push(list);
    }

    // k-way merge (k <= 5): pick the smallest head each round, stop as soon as we have enough.
    const cursors = lists.map(() => 0);
    const result: string[] = [];
    while (result.length < query.limit) {
      let best: ScoredId | undefined;
      let bestList = -1;
      for (let i = 0; i < lists.length; i++) {
        const head = lists[i]!.at(cursors[i]!);
        if (head && (!best || compareScored(head, best) < 0)) {
          best = head;
          bestList = i;
        }
      }
      if (!best) break;
      cursors[bestList]!++;
      if (accept(best.id)) result.push(best.id);
    }
    return result;
  }

  private removeFrom(key: string, advisorId: string): void {
    const list = this.lists.get(key);
    if (!list) return;
    list.delete(advisorId);
    // Drop empty lists so churn in pools (branches, regions, languages) cannot leak memory.
    if (list.size === 0) this.lists.delete(key);
  }
}

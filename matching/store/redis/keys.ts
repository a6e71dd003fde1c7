/**
 * Key layout of the Redis matching store. Everything lives under one prefix (default "adx:"), so a
 * store owns exactly `${prefix}*` and tests isolate by prefix (prefixes must not be prefixes of
 * each other).
 *
 * Scale-out model: stateless server processes sharing one Redis primary. Not Redis Cluster: every
 * script that writes advisor or request state also reads the generation key (the live-state fence,
 * lua/lib/fence.lua), which has a slot of its own, so those scripts touch two slots.
 *
 * Owned state, one JSON string per entity, each under its own hash tag. A script declares the keys
 * of ONE entity (one hash tag), plus, when it is fenced, the generation key as its last key
 * (scripts.ts asserts that on every call), and derives from the prefix the global sets below that
 * its change moves; except the action scripts (codes.ts, ACTION_SCRIPTS),
 * which decide one engine action whole: the request, its advisors, the deadlines, the queue and the
 * journal in one step. Those need one Redis primary:
 *
 *   ${prefix}adv:{<advisorId>}   AdvisorState + rev, langs, pl (see lua/lib/advisor.lua)
 *   ${prefix}adv:{<advisorId>}:snaps
 *                                hash, the eligibility snapshot each hold and assignment was granted
 *                                with (lua/lib/advisor.lua), so a repeated grant answers the same
 *   ${prefix}req:{<requestId>}   LiveRequest + rev (see lua/lib/request.lua); a terminal request
 *                                keeps its key with a 1 hour TTL, then it is gone
 *   ${prefix}req:{<requestId>}:lost  offer id -> advisor id of the offers that lost a grab's race,
 *                                with the document's TTL: acceptOffer answers their advisors from it
 *                                (lua/lib/request.lua)
 *
 * Global structures, each its own key (so its own slot), written by the script that makes the
 * decision, in the same step, never by Node afterwards (a deadline alone, setDeadline and
 * clearDeadline, is one ZADD or ZREM), so they are exact, not hints:
 *
 *   ${prefix}deadlines           sorted set, member request id, score = deadline (epoch ms).
 *                                claimDueDeadlines is one script over this key (and the fence).
 *   ${prefix}queue               sorted set, member request id, score = queueScore (ties by id,
 *                                which Redis gives for equal scores)
 *   ${prefix}live                set of request ids that are not terminal
 *   ${prefix}heartbeats          sorted set, member advisor id, score = supply.heartbeatAt, for every
 *                                advisor whose presence is not offline: findLapsedAdvisors reads its
 *                                head (oldest heartbeats), so the presence sweep never scans everyone
 *   ${prefix}available           sorted set, same scores, for advisors whose presence is available:
 *                                countAvailable is one ZCOUNT over it
 *   ${prefix}idx:{<pool>:<poolId>:<licence>:<language>}:s<scope>
 *                                candidate index, sorted set, member advisor id, score =
 *                                stats.lastAssignedAt. One per (pool, pool id, licence kind,
 *                                language or "*", suitability scope 1..5). The five scopes of one
 *                                (pool, pool id, licence, language) share a hash tag, so one query's
 *                                reads live on one slot. Pool ids and languages are escaped (see
 *                                `escapeKeyPart`), so "*" means "any language" / "the national pool" only.
 *   ${prefix}adv:{<advisorId>}:ix
 *                                set of the candidate lists the advisor's profile puts them in
 *                                (candidateKeys), written by upsertAdvisor and restoreAdvisor; the
 *                                scripts that change the advisor read it to move their entries
 *                                (lua/lib/index.lua)
 *
 * Bookkeeping:
 *
 *   ${prefix}meta:generation     the live state's generation (getGeneration), set by a rebuild; its
 *                                absence is the fence that stops every decision (lua/lib/fence.lua)
 *   ${prefix}lease:{<name>}      named leases (the rebuild's, the job leader's), value = token
 *   ${prefix}journal             the decision journal, a stream (matching/journal/redis.ts); the
 *                                action scripts (codes.ts, ACTION_SCRIPTS) append to it in the same
 *                                step as the decision
 *
 * Not the store's, but under the same deployment prefix: ${prefix}rl:{<action>:<principal>}, the
 * rate limiter's counters (app/rateLimit/redis.ts). reset() removes them too, which only starts
 * their windows afresh.
 *
 * Readers still check what they read against the documents (findCandidates re-checks each
 * advisor, listQueue and listLiveRequestIds each request): an entry written by hand, or left by a
 * partial loss of keys before a rebuild, is skipped rather than trusted. Every decision is re-checked
 * atomically on the owning document anyway (eligibility in makeOffers and acceptOffer).
 */
import { ANY, isIndexable, MAX_SCOPE, queryScopeOf, scopeOf } from "../candidateMembership.ts";
import type { AdvisorState, CandidateQuery } from "../port.ts";

export const DEFAULT_PREFIX = "adx:";

/** The language slot that matches a query for any language, and the single national pool id. */
export { ANY };

/**
 * Makes a pool id or language safe inside a key: anything but [A-Za-z0-9_.~-] becomes %XXXX (one
 * UTF-16 code unit, fixed width, so the escaping is injective). "*", ":", "{" and "}" never appear raw.
 */
export function escapeKeyPart(part: string): string {
  return part.replace(/[^A-Za-z0-9_.~-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Escapes glob characters so SCAN MATCH treats the prefix literally. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export interface KeySpace {
  readonly prefix: string;
  advisor(advisorId: string): string;
  request(requestId: string): string;
  readonly deadlines: string;
  readonly queue: string;
  readonly live: string;
  /** Advisors not offline, by heartbeatAt. */
  readonly heartbeats: string;
  /** Available advisors, by heartbeatAt. */
  readonly available: string;
  /** The live state's generation marker (see MatchingStore.getGeneration). */
  readonly generation: string;
  /** The decision journal's stream (matching/journal/redis.ts), written by the action scripts. */
  readonly journal: string;
  lease(name: string): string;
  /** The candidate index key for one (pool, pool id, licence, language or ANY, scope). */
  candidates(pool: CandidateQuery["pool"], poolId: string, licence: string, language: string, scope: number): string;
}

export function keySpace(prefix = DEFAULT_PREFIX): KeySpace {
  return {
    prefix,
    advisor: (advisorId) => `${prefix}adv:{${advisorId}}`,
    request: (requestId) => `${prefix}req:{${requestId}}`,
    deadlines: `${prefix}deadlines`,
    queue: `${prefix}queue`,
    live: `${prefix}live`,
    heartbeats: `${prefix}heartbeats`,
    available: `${prefix}available`,
    generation: `${prefix}meta:generation`,
    journal: `${prefix}journal`,
    lease: (name) => `${prefix}lease:{${escapeKeyPart(name)}}`,
    candidates: (pool, poolId, licence, language, scope) => {
      const id = pool === "national" ? ANY : escapeKeyPart(poolId);
      const lang = language === ANY ? ANY : escapeKeyPart(language);
      return `${prefix}idx:{${pool}:${id}:${escapeKeyPart(licence)}:${lang}}:s${scope}`;
    },
  };
}

/**
 * An advisor document's key split into the store's prefix and the advisor id (KeySpace.advisor's
 * inverse), or null for any other key: the advisor's other keys (`:ix`, `:snaps`), requests, lists.
 */
export function parseAdvisorKey(key: string): { prefix: string; id: string } | null {
  if (!key.endsWith("}")) return null;
  const at = key.lastIndexOf("adv:{");
  return at < 0 ? null : { prefix: key.slice(0, at), id: key.slice(at + 5, -1) };
}

// ---- candidate index membership ----------------------------------------------------------------

/**
 * Every candidate list a profile puts the advisor in, whether or not they are indexable right now:
 * upsertAdvisor and restoreAdvisor store these in the advisor's ix set, and the scripts add or
 * remove the advisor in each of them as its state changes (lua/lib/index.lua).
 */
export function candidateKeys(keys: KeySpace, profile: AdvisorState["profile"]): string[] {
  const scope = scopeOf(profile.suitabilityMaxRisk);
  if (scope === null) return [];
  const kinds = new Set(profile.licences.filter((licence) => licence.status === "active").map((licence) => licence.kind));
  const languages = new Set([ANY, ...profile.languages.map((language) => language.toLowerCase())]);
  const pools: Array<[CandidateQuery["pool"], string]> = [
    ["branch", profile.branchId],
    ["region", profile.region],
    ["national", ANY],
  ];
  const result: string[] = [];
  for (const [pool, poolId] of pools) {
    for (const kind of kinds) {
      for (const language of languages) result.push(keys.candidates(pool, poolId, kind, language, scope));
    }
  }
  return result;
}

/** Every candidate index key the advisor belongs in right now, each with its score. */
export function candidateEntries(keys: KeySpace, state: AdvisorState | null): Map<string, number> {
  const entries = new Map<string, number>();
  if (!state || !isIndexable(state)) return entries;
  // A restored document could carry a non-number here; Redis would refuse it as a score.
  const lastAssignedAt = state.stats.lastAssignedAt;
  const score = typeof lastAssignedAt === "number" && !Number.isNaN(lastAssignedAt) ? lastAssignedAt : 0;
  for (const key of candidateKeys(keys, state.profile)) entries.set(key, score);
  return entries;
}

/** The presence sets the advisor belongs in right now (heartbeats, available), each with its score. */
export function presenceEntries(keys: KeySpace, state: AdvisorState | null): Map<string, number> {
  const entries = new Map<string, number>();
  if (!state || state.supply.presence === "offline") return entries;
  // Same guard as the candidate index: Redis refuses a non-number score.
  const heartbeatAt = state.supply.heartbeatAt;
  const score = typeof heartbeatAt === "number" && !Number.isNaN(heartbeatAt) ? heartbeatAt : 0;
  entries.set(keys.heartbeats, score);
  if (state.supply.presence === "available") entries.set(keys.available, score);
  return entries;
}

/** The scope keys a query reads, lowest scope first; empty when the query can match nobody. */
export function candidateQueryKeys(keys: KeySpace, query: CandidateQuery): string[] {
  const fromScope = queryScopeOf(query.minRisk);
  if (Number.isNaN(fromScope)) return [];
  const language = query.language === null ? ANY : query.language.toLowerCase();
  const result: string[] = [];
  for (let scope = fromScope; scope <= MAX_SCOPE; scope++) {
    result.push(keys.candidates(query.pool, query.poolId, query.licence, language, scope));
  }
  return result;
}

// ---- hash tags and slots ---------------------------------------------------------------------
//
// The store does not run on Redis Cluster (see the top of this file); hash tags and slots remain
// the check that a script's keys belong to one entity (scripts.ts, assertOneSlot).

/** The part of the key Redis Cluster hashes: the first non-empty {…}, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CLUSTER KEYSLOT: CRC16 (XMODEM) of the hash tag's UTF-8 bytes, mod 16384. */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTagOf(key), "utf8")) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % 16384;
}

/** Throws unless every key hashes to the same slot: a script's entity keys (the fence's generation key excepted) are one entity's. */
export function assertOneSlot(script: string, keys: readonly string[]): void {
  if (keys.length < 2) return;
  const slot = keySlot(keys[0]!);
  for (const key of keys) {
    if (keySlot(key) !== slot) throw new Error(`redis matching store: script ${script} would touch several hash slots: ${keys.join(", ")}`);
  }
}

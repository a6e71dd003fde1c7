/**
 * The Redis MatchingStore: production adapter, shared by every server process.
 *
 * Every check-and-mutate is one Lua script (matching/lua/, run by scripts.ts) over one entity's
 * document, so two processes can never both win a decision; each one that writes also checks the
 * live-state fence (the generation key, lua/lib/fence.lua) and throws LiveStateUnavailableError
 * while the state is lost and not yet rebuilt. Node only decodes results, maps codes
 * to outcomes (codes.ts) and keeps the global hint structures (candidate index, presence sets,
 * queue, live set, deadlines) in step after the owning script returns; keys.ts explains why lagging hints are safe
 * and how they converge.
 *
 * Documents are JSON written by the scripts; Node normalises arrays on the way in (a `{}` where an
 * array belongs becomes []) and strips the store's bookkeeping fields (rev, langs, snaps).
 */
import type { RedisClient } from "../../../infra/redis.ts";
import type { EligibilityInput, EligibilityResult, EligibilitySnapshot } from "../../domain/eligibility.ts";
import { EMPTY_STATS, type OfferAnswer } from "../../domain/ranking.ts";
import type { AdvisorProfile, RequestFacts, RequestStatus } from "../../domain/types.ts";
import type { AcceptResult, AdvisorState, CandidateQuery, CapacityResult, LiveRequest, MatchingStore, OfferState } from "../port.ts";
import { FENCED_SCRIPTS, outcomeOf, type ScriptName, type ScriptOutcome } from "./codes.ts";
import { matchesCandidateQuery } from "../candidateMembership.ts";
import { candidateKeys, candidateQueryKeys, DEFAULT_PREFIX, globEscape, keySpace } from "./keys.ts";
import { runScript } from "./scripts.ts";

/** updateResponsiveness's weight for a new observation (the port fixes it at 0.2). */
export const RESPONSIVENESS_ALPHA = 0.2;
/** How long a terminal request's key is kept (the port asks for at least 10 minutes). */
export const TERMINAL_RETENTION_SECONDS = 3600;
/** Documents loaded per round trip when listing. */
const LOAD_BATCH = 500;

export interface RedisMatchingStoreOptions {
  /** Namespace of every key this store owns (default "adx:"). */
  prefix?: string;
  /**
   * Append each action's journal entry in the action's own step (the server, whose persisters read
   * `${prefix}journal`). Off: actions return journalId null and the caller records them.
   */
  journal?: boolean;
}

// ---- decoding ------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
interface Doc<T> {
  value: T;
  rev: number;
}

/** cjson writes an empty Lua table as `{}`: anything that should be an array and is not becomes []. */
export function asArray<T = unknown>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

const asObject = (value: unknown): Json => (value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {});

function parse(raw: unknown, what: string): Json {
  if (typeof raw !== "string") throw new Error(`redis matching store: expected a JSON ${what}, got ${typeof raw}`);
  return asObject(JSON.parse(raw));
}

function decodeProfile(value: unknown): AdvisorProfile {
  const profile = asObject(value);
  return { ...profile, languages: asArray(profile.languages), licences: asArray(profile.licences) } as unknown as AdvisorProfile;
}

export function decodeAdvisor(raw: unknown): Doc<AdvisorState> | null {
  if (raw === null || raw === undefined) return null;
  const { rev, langs: _langs, snaps: _snaps, ...doc } = parse(raw, "advisor");
  const value = {
    ...doc,
    profile: decodeProfile(doc.profile),
    supply: asObject(doc.supply),
    stats: asObject(doc.stats),
    assignments: asArray(doc.assignments),
    pushHolds: asArray(doc.pushHolds),
  } as unknown as AdvisorState;
  return { value, rev: typeof rev === "number" ? rev : 0 };
}

export function decodeOffer(value: unknown): OfferState {
  const offer = asObject(value);
  return { ...offer, outcome: offer.outcome ?? null, respondedAt: offer.respondedAt ?? null } as unknown as OfferState;
}

export const decodeOffers = (raw: unknown): OfferState[] => asArray(JSON.parse(String(raw))).map(decodeOffer);

export function decodeRequest(raw: unknown): Doc<LiveRequest> | null {
  if (raw === null || raw === undefined) return null;
  const { rev, ...doc } = parse(raw, "request");
  const value = {
    ...doc,
    facts: asObject(doc.facts),
    assignedAdvisorId: doc.assignedAdvisorId ?? null,
    excluded: asArray(doc.excluded),
    offers: asArray(doc.offers).map(decodeOffer),
    queueScore: doc.queueScore ?? null,
    rev: typeof rev === "number" ? rev : 0,
  } as unknown as LiveRequest;
  return { value, rev: typeof rev === "number" ? rev : 0 };
}

export function decodeSnapshot(raw: unknown): EligibilitySnapshot {
  const snapshot = parse(raw, "snapshot");
  const language = asObject(snapshot.language);
  return {
    ...snapshot,
    language: { ...language, requested: language.requested ?? null, advisor: asArray(language.advisor) },
  } as unknown as EligibilitySnapshot;
}

function must<T>(doc: Doc<T> | null, what: string): T {
  if (!doc) throw new Error(`redis matching store: script returned no ${what}`);
  return doc.value;
}

const CAPACITY_REASONS: ReadonlySet<string> = new Set(["STATUS", "PRESENCE", "CAPACITY", "LICENCE", "SUITABILITY", "LANGUAGE"]);
const isOpen = (status: RequestStatus): boolean => status === "pending" || status === "offered";
const isTerminal = (status: RequestStatus): boolean => status === "completed" || status === "cancelled" || status === "expired";
const clamp01 = (value: number): number => (Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value)));

/** What eligibility needs besides the stored advisor: the clock and the case-folded language. */
function eligibilityContext(request: Pick<RequestFacts, "language">, now: number, presenceTtlMs: number): string {
  return JSON.stringify({ now, ttl: presenceTtlMs, wantLang: request.language === null ? null : request.language.toLowerCase() });
}

const foldedLanguages = (profile: AdvisorProfile): string => JSON.stringify(profile.languages.map((language) => language.toLowerCase()));

// ---- the pure Lua eligibility, for tests and diagnostics ------------------------------------------

/**
 * Runs the Lua mirror of checkEligibility (lua/lib/eligibility.lua, the code every capacity script
 * uses) on the given facts, touching no key.
 */
export async function checkEligibilityInLua(client: RedisClient, input: EligibilityInput): Promise<EligibilityResult> {
  const argument = JSON.stringify({
    profile: input.advisor,
    supply: input.supply,
    request: input.request,
    now: input.now,
    ttl: input.presenceTtlMs,
    wantLang: input.request.language === null ? null : input.request.language.toLowerCase(),
    langs: input.advisor.languages.map((language) => language.toLowerCase()),
    rule: input.capacityRule,
    excluded: input.excluded === true,
  });
  const outcome = outcomeOf("checkEligibility", await runScript(client, "checkEligibility", [], [argument]));
  if (outcome.ok) return { eligible: true, snapshot: decodeSnapshot(outcome.payload[0]) };
  return { eligible: false, reason: outcome.reason, detail: String(outcome.payload[0]) };
}

// ---- the store -------------------------------------------------------------------------------------

export function createRedisMatchingStore(client: RedisClient, options: RedisMatchingStoreOptions = {}): MatchingStore {
  const keys = keySpace(options.prefix ?? DEFAULT_PREFIX);

  /** Runs a script on its entity's keys; a fenced one also gets the generation key, last (lua/lib/fence.lua). */
  const run = async <S extends ScriptName>(name: S, scriptKeys: string[], args: string[]): Promise<ScriptOutcome<S>> =>
    outcomeOf(name, await runScript(client, name, FENCED_SCRIPTS.has(name) ? [...scriptKeys, keys.generation] : scriptKeys, args));

  const loadAdvisor = async (advisorId: string) => decodeAdvisor(await client.get(keys.advisor(advisorId)));
  const loadRequest = async (requestId: string) => decodeRequest(await client.get(keys.request(requestId)));

  /** Runs an advisor script that answers {code, newDocument, oldDocument} (the script moved its index entries). */
  async function writeAdvisor(
    name: "upsertAdvisor" | "setPresence" | "releaseAssignment" | "restoreAdvisor",
    advisorId: string,
    args: string[],
  ): Promise<AdvisorState | null> {
    const outcome = await run(name, [keys.advisor(advisorId)], args);
    if (!outcome.ok) return null;
    return must(decodeAdvisor(outcome.payload[0]), "advisor");
  }

  /** The shared tail of the three capacity operations. */
  function capacityResult(advisorId: string, outcome: ScriptOutcome<"holdPushSlot" | "checkBroadcastEligibility" | "takeAssignment">): CapacityResult {
    if (!outcome.ok) {
      if (outcome.reason === "UNKNOWN_ADVISOR") return { ok: false, reason: outcome.reason, detail: `advisor ${advisorId} is not registered` };
      return { ok: false, reason: outcome.reason, detail: String(outcome.payload[0]) };
    }
    return {
      ok: true,
      snapshot: decodeSnapshot(outcome.payload[1]),
      advisor: must(decodeAdvisor(outcome.payload[0]), "advisor"),
      duplicate: outcome.duplicate,
    };
  }

  /** Advisor documents by id, in order (null when missing): one MGET per LOAD_BATCH ids. */
  async function loadAdvisors(advisorIds: string[]): Promise<Array<Doc<AdvisorState> | null>> {
    const out: Array<Doc<AdvisorState> | null> = [];
    // One command and one reply rather than a GET per id: node-redis's cost per command and per
    // reply, not Redis's, dominated the candidate lookup (80 GETs cost about 2.5x one MGET).
    for (let start = 0; start < advisorIds.length; start += LOAD_BATCH) {
      const raws = await client.mGet(advisorIds.slice(start, start + LOAD_BATCH).map((id) => keys.advisor(id)));
      for (const raw of raws) out.push(decodeAdvisor(raw));
    }
    return out;
  }

  async function loadMany<T>(ids: string[], load: (id: string) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    // Commands issued in the same tick go out together (node-redis pipelines them): one round trip per batch.
    for (let start = 0; start < ids.length; start += LOAD_BATCH) out.push(...(await Promise.all(ids.slice(start, start + LOAD_BATCH).map(load))));
    return out;
  }

  const store: MatchingStore = {
    kind: "redis",

    // ---- supply ----

    async upsertAdvisor(profile, _now) {
      const state = await writeAdvisor("upsertAdvisor", profile.id, [
        JSON.stringify(profile),
        foldedLanguages(profile),
        JSON.stringify(EMPTY_STATS),
        JSON.stringify(candidateKeys(keys, profile)),
      ]);
      if (!state) throw new Error("redis matching store: upsertAdvisor refused");
      return state;
    },

    async setPresence(advisorId, presence, now, options) {
      const advisor = await writeAdvisor("setPresence", advisorId, [presence, String(now), options?.onlyIfNewer ? "1" : "0"]);
      return advisor ? { ok: true, advisor } : { ok: false, reason: "UNKNOWN_ADVISOR" };
    },

    async expirePresence(advisorId, heartbeatBefore) {
      const outcome = await run("expirePresence", [keys.advisor(advisorId)], [String(heartbeatBefore)]);
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      return { ok: true, advisor: must(decodeAdvisor(outcome.payload[0]), "advisor"), duplicate: outcome.duplicate };
    },

    async findLapsedAdvisors(heartbeatBefore, limit) {
      if (!(limit > 0)) return [];
      const result: string[] = [];
      const chunk = Math.min(Math.ceil(limit), 1000);
      for (let offset = 0; result.length < limit; offset += chunk) {
        const ids = (await client.zRange(keys.heartbeats, "-inf", `(${heartbeatBefore}`, { BY: "SCORE", LIMIT: { offset, count: chunk } })).map(String);
        // The set is a hint: the document decides (an entry may trail a write still re-syncing).
        const docs = await loadAdvisors(ids);
        ids.forEach((id, i) => {
          const supply = docs[i]?.value.supply;
          if (supply && supply.presence !== "offline" && supply.heartbeatAt < heartbeatBefore && result.length < limit) result.push(id);
        });
        if (ids.length < chunk) break;
      }
      return result;
    },

    async countAvailable(heartbeatAfter) {
      return await client.zCount(keys.available, heartbeatAfter, "+inf");
    },

    async getAdvisor(advisorId) {
      return (await loadAdvisor(advisorId))?.value ?? null;
    },

    async getAdvisors(advisorIds) {
      return (await loadAdvisors(advisorIds)).map((doc) => doc?.value ?? null);
    },

    async findCandidates(query: CandidateQuery) {
      if (!(query.limit > 0)) return [];
      const scopeKeys = candidateQueryKeys(keys, query);
      if (scopeKeys.length === 0) return [];
      // Each scope list is read a share at a time (twice the even split): the merge needs only `limit`
      // heads in all, and every entry node-redis parses costs more than a rare second round trip.
      const chunk = Math.min(Math.max(16, Math.ceil((2 * query.limit) / scopeKeys.length)), Math.ceil(query.limit), 1000);
      const cursors = scopeKeys.map((key) => ({ key, offset: 0, done: false, buffer: [] as Array<{ value: string; score: number }> }));
      const seen = new Set<string>();
      const result: AdvisorState[] = [];

      while (result.length < query.limit) {
        // Read the next heads of every scope set that ran dry (one round trip: one slot, pipelined).
        await Promise.all(
          cursors
            .filter((cursor) => !cursor.done && cursor.buffer.length === 0)
            .map(async (cursor) => {
              const rows = await client.zRangeWithScores(cursor.key, cursor.offset, cursor.offset + chunk - 1);
              cursor.offset += rows.length;
              cursor.buffer.push(...rows.map((row) => ({ value: String(row.value), score: Number(row.score) })));
              if (rows.length < chunk) cursor.done = true;
            }),
        );
        // Merge by (lastAssignedAt, id) until we have enough or a set needs reading again.
        const batch: string[] = [];
        for (;;) {
          if (batch.length >= query.limit - result.length) break;
          if (cursors.some((cursor) => !cursor.done && cursor.buffer.length === 0)) break;
          let best: (typeof cursors)[number] | undefined;
          for (const cursor of cursors) {
            const head = cursor.buffer[0];
            if (!head) continue;
            const top = best?.buffer[0];
            if (!top || head.score < top.score || (head.score === top.score && head.value < top.value)) best = cursor;
          }
          if (!best) break;
          const { value } = best.buffer.shift()!;
          if (!seen.has(value)) {
            seen.add(value);
            batch.push(value);
          }
        }
        if (batch.length === 0 && cursors.every((cursor) => cursor.done && cursor.buffer.length === 0)) break;
        // The index is a hint: keep only advisors whose current document still belongs in a queried set.
        for (const doc of await loadAdvisors(batch)) {
          if (!doc || result.length >= query.limit) continue;
          const state = doc.value;
          if (matchesCandidateQuery(state, query) && state.profile.suitabilityMaxRisk >= query.minRisk) result.push(state);
        }
      }
      return result;
    },

    async holdPushSlot(advisorId, request, offerId, now, presenceTtlMs) {
      const outcome = await run("holdPushSlot", [keys.advisor(advisorId)], [JSON.stringify(request), eligibilityContext(request, now, presenceTtlMs), offerId]);
      return capacityResult(advisorId, outcome);
    },

    async checkBroadcastEligibility(advisorId, request, now, presenceTtlMs) {
      const outcome = await run(
        "checkBroadcastEligibility",
        [keys.advisor(advisorId)],
        [JSON.stringify(request), eligibilityContext(request, now, presenceTtlMs)],
      );
      return capacityResult(advisorId, outcome);
    },

    async takeAssignment(advisorId, request, offerId, now, presenceTtlMs) {
      const outcome = await run(
        "takeAssignment",
        [keys.advisor(advisorId)],
        [JSON.stringify(request), eligibilityContext(request, now, presenceTtlMs), offerId],
      );
      return capacityResult(advisorId, outcome);
    },

    async acceptOffer(input, journal) {
      const { requestId, offerId, advisorId, now, presenceTtlMs, language } = input;
      const outcome = await run(
        "acceptOffer",
        [keys.request(requestId), keys.advisor(advisorId), keys.deadlines, keys.queue, keys.journal],
        [
          offerId,
          advisorId,
          eligibilityContext({ language }, now, presenceTtlMs),
          String(RESPONSIVENESS_ALPHA),
          keys.prefix,
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) {
        if (outcome.reason === "UNKNOWN_ADVISOR") return { ok: false, reason: outcome.reason, detail: `advisor ${advisorId} is not registered` };
        if (CAPACITY_REASONS.has(outcome.reason))
          return { ok: false, reason: outcome.reason as Exclude<typeof outcome.reason, "UNKNOWN_ADVISOR">, detail: String(outcome.payload[0]) } as AcceptResult;
        return { ok: false, reason: outcome.reason } as AcceptResult;
      }
      const [requestRaw, offerRaw, third, fourth, , sixth] = outcome.payload;
      const request = must(decodeRequest(requestRaw), "request");
      const offer = decodeOffer(JSON.parse(String(offerRaw)));
      if (outcome.duplicate) {
        return { ok: true, request, offer, superseded: [], advisor: must(decodeAdvisor(third), "advisor"), duplicate: true, journalId: null };
      }
      const after = decodeAdvisor(fourth);
      return {
        ok: true,
        request,
        offer,
        superseded: decodeOffers(third),
        advisor: must(after, "advisor"),
        duplicate: false,
        journalId: typeof sixth === "string" ? sixth : null,
      };
    },

    async releaseAssignment(advisorId, requestId) {
      return writeAdvisor("releaseAssignment", advisorId, [requestId]);
    },

    async releasePushHold(advisorId, offerId) {
      const outcome = await run("releasePushHold", [keys.advisor(advisorId)], [offerId]);
      return outcome.ok ? must(decodeAdvisor(outcome.payload[0]), "advisor") : null;
    },

    // Unknown advisors are ignored: an answer can outlive a directory removal, and that is not a fault.
    async recordAnswer(advisorId, answer: OfferAnswer) {
      const latency = answer.accepted ? String(answer.latencyMs) : "0";
      await run("recordAnswer", [keys.advisor(advisorId)], [answer.accepted ? "1" : "0", latency, String(RESPONSIVENESS_ALPHA)]);
    },

    async recordRating(advisorId, stars) {
      await run("recordRating", [keys.advisor(advisorId)], [String(stars)]);
    },

    async setIncentive(advisorId, value) {
      await run("setIncentive", [keys.advisor(advisorId)], [String(clamp01(value))]);
    },

    // ---- demand ----

    async createRequest(facts, init) {
      const outcome = await run(
        "createRequest",
        [keys.request(facts.id), keys.deadlines, keys.live],
        [JSON.stringify(facts), String(init.stageIndex), String(init.now), String(init.deadline)],
      );
      if (!outcome.ok) throw new Error("redis matching store: createRequest refused");
      // Live set and deadline are written by the script: nothing global to sync.
      return { request: must(decodeRequest(outcome.payload[0]), "request"), created: !outcome.duplicate };
    },

    async getRequest(requestId) {
      return (await loadRequest(requestId))?.value ?? null;
    },

    async addOffers(requestId, stageIndex, offers, now) {
      const outcome = await run("addOffers", [keys.request(requestId)], [String(stageIndex), JSON.stringify(offers), String(now)]);
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      // pending -> offered: still live, queue score unchanged, so nothing global to sync.
      return { ok: true, request: must(decodeRequest(outcome.payload[0]), "request") };
    },

    async makeOffers(input, journal) {
      const { requestId, now, expiresAt, presenceTtlMs, language } = input;
      const outcome = await run(
        "makeOffers",
        [keys.request(requestId), keys.deadlines, keys.journal],
        [
          String(input.stageIndex),
          input.kind,
          JSON.stringify(input.candidates),
          String(input.count),
          eligibilityContext({ language }, now, presenceTtlMs),
          String(now),
          String(expiresAt),
          keys.prefix,
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const [requestRaw, offersRaw, snapshotsRaw, journalId] = outcome.payload;
      const snapshots = asArray(JSON.parse(String(snapshotsRaw)));
      const offers = decodeOffers(offersRaw).map((offer, i) => ({ offer, eligibility: decodeSnapshot(JSON.stringify(snapshots[i])) }));
      // pending -> offered: still live, queue score unchanged; holds leave the index as it is.
      return { ok: true, request: must(decodeRequest(requestRaw), "request"), offers, journalId: typeof journalId === "string" ? journalId : null };
    },

    async claimOffer(requestId, offerId, advisorId, now) {
      const outcome = await run("claimOffer", [keys.request(requestId)], [offerId, advisorId, String(now)]);
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const doc = decodeRequest(outcome.payload[0]);
      return {
        ok: true,
        request: must(doc, "request"),
        offer: decodeOffer(JSON.parse(String(outcome.payload[1]))),
        superseded: decodeOffers(outcome.payload[2]),
        duplicate: outcome.duplicate,
      };
    },

    async closeOffer(requestId, offerId, outcome, now, advisorId) {
      const result = await run("closeOffer", [keys.request(requestId)], [offerId, outcome, String(now), JSON.stringify(advisorId ?? null)]);
      if (!result.ok) {
        if (result.reason === "ALREADY_CLOSED" || result.reason === "NOT_DUE") {
          return { ok: false, reason: result.reason, offer: decodeOffer(JSON.parse(String(result.payload[0]))) };
        }
        return { ok: false, reason: result.reason };
      }
      // offered -> pending at most: still live, queue score unchanged, so nothing global to sync.
      return { ok: true, request: must(decodeRequest(result.payload[0]), "request"), offer: decodeOffer(JSON.parse(String(result.payload[1]))) };
    },

    async resolveOffer(input, journal) {
      const { requestId, offerId, outcome: closeAs, now } = input;
      const outcome = await run(
        "resolveOffer",
        [keys.request(requestId), keys.deadlines, keys.journal],
        [
          offerId,
          closeAs,
          String(now),
          JSON.stringify(input.advisorId ?? null),
          String(RESPONSIVENESS_ALPHA),
          keys.prefix,
          input.deadline === undefined ? "" : String(input.deadline),
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) {
        if (outcome.reason === "ALREADY_CLOSED" || outcome.reason === "NOT_DUE") {
          return { ok: false, reason: outcome.reason, offer: decodeOffer(JSON.parse(String(outcome.payload[0]))) };
        }
        return { ok: false, reason: outcome.reason };
      }
      const [requestRaw, offerRaw, journalId] = outcome.payload;
      // offered -> pending at most: still live, queue score unchanged; holds and answers leave the index as it is.
      return {
        ok: true,
        request: must(decodeRequest(requestRaw), "request"),
        offer: decodeOffer(JSON.parse(String(offerRaw))),
        journalId: typeof journalId === "string" ? journalId : null,
      };
    },

    async advanceStage(requestId, move, journal) {
      const outcome = await run(
        "advanceStage",
        [keys.request(requestId), keys.queue, keys.journal],
        [
          String(move.fromStageIndex),
          String(move.toStageIndex),
          String(move.now),
          JSON.stringify(move.queueScore),
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const [raw, journalId] = outcome.payload;
      // The queue set moved in the script; still live, so the live set stays.
      return { ok: true, request: must(decodeRequest(raw), "request"), journalId: typeof journalId === "string" ? journalId : null };
    },

    async finishRequest(requestId, end) {
      const outcome = await run(
        "finishRequest",
        [keys.request(requestId)],
        [end.to, String(end.now), JSON.stringify(end.callbackRequested ?? null), String(TERMINAL_RETENTION_SECONDS)],
      );
      if (!outcome.ok) {
        if (outcome.reason === "INVALID_STATE") return { ok: false, reason: outcome.reason, status: String(outcome.payload[0]) as RequestStatus };
        return { ok: false, reason: outcome.reason };
      }
      const doc = decodeRequest(outcome.payload[0]);
      return { ok: true, request: must(doc, "request"), withdrawn: decodeOffers(outcome.payload[1]), duplicate: outcome.duplicate };
    },

    async endRequest(input, journal) {
      const { requestId, to, now } = input;
      const outcome = await run(
        "endRequest",
        [keys.request(requestId), keys.deadlines, keys.queue, keys.live, keys.journal],
        [
          to,
          String(now),
          JSON.stringify(input.callbackRequested ?? null),
          String(TERMINAL_RETENTION_SECONDS),
          keys.prefix,
          input.assignee ?? "",
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) {
        if (outcome.reason === "INVALID_STATE") return { ok: false, reason: outcome.reason, status: String(outcome.payload[0]) as RequestStatus };
        return { ok: false, reason: outcome.reason };
      }
      const request = must(decodeRequest(outcome.payload[0]), "request");
      if (outcome.duplicate) return { ok: true, request, withdrawn: [], freed: [], duplicate: true, journalId: null };
      const [, withdrawnRaw, journalId, , assigneeNew, ...holders] = outcome.payload;
      const freed: AdvisorState[] = [];
      if (assigneeNew) freed.push(must(decodeAdvisor(assigneeNew), "advisor"));
      for (const raw of holders) freed.push(must(decodeAdvisor(raw), "advisor"));
      return { ok: true, request, withdrawn: decodeOffers(withdrawnRaw), freed, duplicate: false, journalId: typeof journalId === "string" ? journalId : null };
    },

    async reopenRequest(requestId, change, journal) {
      const outcome = await run(
        "reopenRequest",
        [keys.request(requestId), keys.deadlines, keys.queue, keys.journal],
        [
          change.advisorId,
          String(change.now),
          change.deadline === undefined ? "" : String(change.deadline),
          keys.prefix,
          options.journal && journal ? JSON.stringify(journal) : "",
        ],
      );
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      const [raw, journalId, , advisorNew] = outcome.payload;
      const advisor = advisorNew ? must(decodeAdvisor(advisorNew), "advisor") : null;
      return { ok: true, request: must(decodeRequest(raw), "request"), advisor, journalId: typeof journalId === "string" ? journalId : null };
    },

    // ---- timers and queue ----

    async setDeadline(requestId, at) {
      await client.zAdd(keys.deadlines, { score: at, value: requestId });
    },

    async setDeadlineIf(requestId, at, rev) {
      return (await run("setDeadlineIf", [keys.request(requestId), keys.deadlines], [String(at), String(rev)])).ok;
    },

    async getDeadline(requestId) {
      const score = await client.zScore(keys.deadlines, requestId);
      return score === null ? null : Number(score);
    },

    async clearDeadline(requestId) {
      await client.zRem(keys.deadlines, requestId);
    },

    async claimDueDeadlines(now, leaseMs, limit) {
      if (!(limit > 0)) return [];
      const outcome = await run("claimDueDeadlines", [keys.deadlines], [String(now), String(now + leaseMs), String(Math.ceil(limit))]);
      return outcome.payload.map(String);
    },

    async listQueue(limit) {
      if (!(limit > 0)) return [];
      const result: string[] = [];
      const chunk = Math.min(Math.ceil(limit), 1000);
      for (let offset = 0; result.length < limit; offset += chunk) {
        const ids = (await client.zRange(keys.queue, offset, offset + chunk - 1)).map(String);
        // A stale entry (claimed, finished, moved out) is skipped: the document decides.
        const docs = await loadMany(ids, loadRequest);
        ids.forEach((id, i) => {
          const request = docs[i]?.value;
          if (request && request.queueScore !== null && isOpen(request.status) && result.length < limit) result.push(id);
        });
        if (ids.length < chunk) break;
      }
      return result;
    },

    async listLiveRequestIds() {
      const ids = (await client.sMembers(keys.live)).map(String).sort();
      const docs = await loadMany(ids, loadRequest);
      return ids.filter((_, i) => {
        const request = docs[i]?.value;
        return request !== undefined && !isTerminal(request.status);
      });
    },

    // ---- rebuild ----

    async reset() {
      for await (const batch of client.scanIterator({ MATCH: `${globEscape(keys.prefix)}*`, COUNT: 500 })) {
        // One UNLINK per key, pipelined (node-redis sends the commands of one tick together).
        await Promise.all(batch.map((key) => client.unlink(String(key))));
      }
    },

    async restoreAdvisor(state) {
      await writeAdvisor("restoreAdvisor", state.profile.id, [
        JSON.stringify(state),
        foldedLanguages(state.profile),
        JSON.stringify(candidateKeys(keys, state.profile)),
      ]);
    },

    async restoreRequest(request, deadline) {
      const id = request.facts.id;
      const outcome = await run(
        "restoreRequest",
        [keys.request(id)],
        [JSON.stringify(request), String(TERMINAL_RETENTION_SECONDS), deadline === null ? "" : String(deadline)],
      );
      if (!outcome.ok) throw new Error("redis matching store: restoreRequest refused");
    },

    async getGeneration() {
      return (await client.get(keys.generation)) ?? null;
    },

    async setGeneration(generation) {
      await client.set(keys.generation, generation);
    },

    async isLive() {
      return (await client.exists(keys.generation)) === 1;
    },

    async acquireLease(name, token, ttlMs) {
      return (await client.set(keys.lease(name), token, { NX: true, PX: ttlMs })) === "OK";
    },

    async renewLease(name, token, ttlMs) {
      return (await run("renewLease", [keys.lease(name)], [token, String(ttlMs)])).ok;
    },

    async releaseLease(name, token) {
      await run("releaseLease", [keys.lease(name)], [token]);
    },

    // The client belongs to the caller (it is shared with other stores and health checks): not closed here.
    async close() {},
  };
  return store;
}

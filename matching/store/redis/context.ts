/**
 * What every step of the Redis matching store shares: the client, the key space, the options, and
 * the helpers that run scripts and load documents. createRedisMatchingStore (store.ts) builds one
 * and hands it to each group of steps (supply.ts, demand.ts, lifecycle.ts).
 */
import type { RedisClient } from "../../../platform/redis.ts";
import type { AdvisorState, CapacityResult, LiveRequest } from "../port.ts";
import { FENCED_SCRIPTS, outcomeOf, type ScriptName, type ScriptOutcome } from "./codes.ts";
import { DEFAULT_PREFIX, keySpace, parseAdvisorKey } from "./keys.ts";
import { runScript } from "./scripts.ts";
import { readStrings } from "./rawReads.ts";
import { decodeAdvisor, decodeSnapshot, type Doc, must } from "./decode.ts";
import { CANDIDATE_CACHE_ENTRIES, createCandidateCache, createRequestCache } from "./decodedCache.ts";
import { createTrackedDocs, trackedDocsOf } from "./trackedDocs.ts";

/** updateResponsiveness's weight for a new observation (the port fixes it at 0.2). */
export const RESPONSIVENESS_ALPHA = 0.2;
/** How long a terminal request's key is kept (the port asks for at least 10 minutes). */
export const TERMINAL_RETENTION_SECONDS = 3600;
/** Documents loaded per round trip when listing. */
export const LOAD_BATCH = 500;

export interface RedisMatchingStoreOptions {
  /** Namespace of every key this store owns (default "adx:"). */
  prefix?: string;
  /**
   * Append each action's journal entry in the action's own step (the server, whose persisters read
   * `${prefix}journal`). Off: actions return journalId null and the caller records them.
   */
  journal?: boolean;
  /**
   * A connection with CLIENT TRACKING (RedisHandle.tracking): the candidate lookup reads through it
   * and keeps the advisors' documents until Redis reports a change (trackedDocs.ts). Without one,
   * every lookup reads its documents afresh.
   */
  tracking?: RedisClient;
}

export interface StoreContext {
  client: RedisClient;
  /** The connection the candidate lookup reads through: options.tracking, else client. */
  lookupClient: RedisClient;
  keys: ReturnType<typeof keySpace>;
  options: RedisMatchingStoreOptions;
  run: <S extends ScriptName>(name: S, scriptKeys: string[], args: string[]) => Promise<ScriptOutcome<S>>;
  loadAdvisor(advisorId: string): Promise<Doc<AdvisorState> | null>;
  /** A request document: from a stored text's second read on, shared and frozen (decodedCache.ts). */
  loadRequest(requestId: string): Promise<Doc<LiveRequest> | null>;
  /** loadRequest and, in the same MGET (one atomic read), whether the generation was set then. */
  loadRequestIfLive(requestId: string): Promise<{ request: Doc<LiveRequest> | null; live: boolean }>;
  writeAdvisor(name: "upsertAdvisor" | "setPresence" | "releaseAssignment" | "restoreAdvisor", advisorId: string, args: string[]): Promise<AdvisorState | null>;
  capacityResult(advisorId: string, outcome: ScriptOutcome<"holdPushSlot" | "checkBroadcastEligibility" | "takeAssignment">): CapacityResult;
  loadAdvisors(advisorIds: string[]): Promise<Array<Doc<AdvisorState> | null>>;
  /** loadAdvisors for the candidate lookup: shared, frozen states, decoded once per stored text (decodedCache.ts). */
  /**
   * loadAdvisors for the candidate lookup: each document at least as new as Redis's state at the
   * call, or with `pin`, at least as new as the replies to the commands on lookupClient it settles
   * after (trackedDocs.ts).
   */
  loadCandidates(advisorIds: string[], pin?: Promise<unknown>): Promise<Array<Doc<AdvisorState> | null>>;
  /** The stored text a state from loadCandidates was decoded from (decodedCache.ts, textOf). */
  candidateText(state: AdvisorState): string | undefined;
  loadMany<T>(ids: string[], load: (id: string) => Promise<T>): Promise<T[]>;
}

/** The request reads: documents shared from a text's second read on (decodedCache.ts), so a grab's accepts all read one text. */
function requestReads(client: RedisClient, keys: ReturnType<typeof keySpace>): Pick<StoreContext, "loadRequest" | "loadRequestIfLive"> {
  const requests = createRequestCache();
  return {
    loadRequest: async (requestId) => requests.decode(requestId, await client.get(keys.request(requestId))),
    async loadRequestIfLive(requestId) {
      const [text, generation] = await readStrings(client, [keys.request(requestId), keys.generation]);
      return { request: requests.decode(requestId, text ?? null), live: generation !== null && generation !== undefined };
    },
  };
}

/** Advisor documents by id, in order (null when missing): one MGET per LOAD_BATCH ids. */
async function readAdvisors(
  client: RedisClient,
  keys: ReturnType<typeof keySpace>,
  advisorIds: string[],
  decode: (advisorId: string, raw: string | null) => Doc<AdvisorState> | null,
): Promise<Array<Doc<AdvisorState> | null>> {
  const out: Array<Doc<AdvisorState> | null> = [];
  // One command and one reply rather than a GET per id: node-redis's cost per command and per
  // reply, not Redis's, dominated the candidate lookup (80 GETs cost about 2.5x one MGET).
  for (let start = 0; start < advisorIds.length; start += LOAD_BATCH) {
    const ids = advisorIds.slice(start, start + LOAD_BATCH);
    const raws = await readStrings(
      client,
      ids.map((id) => keys.advisor(id)),
    );
    for (const [i, raw] of raws.entries()) out.push(decode(ids[i]!, raw));
  }
  return out;
}

/**
 * The candidate lookup's reads: through the tracking connection, documents kept until Redis reports
 * a change (trackedDocs.ts); without one, every document read afresh and decoded once per stored text.
 */
function candidateReads(
  client: RedisClient,
  keys: ReturnType<typeof keySpace>,
  tracking: RedisClient | undefined,
): Pick<StoreContext, "lookupClient" | "loadCandidates" | "candidateText"> {
  const tracked = tracking
    ? trackedDocsOf(tracking, () => createTrackedDocs(tracking, createCandidateCache(), parseAdvisorKey, CANDIDATE_CACHE_ENTRIES))
    : null;
  const place = { prefix: keys.prefix, keyOf: keys.advisor };
  const candidates = tracked ? tracked.decoded : createCandidateCache();
  return {
    lookupClient: tracking ?? client,
    loadCandidates: tracked
      ? (advisorIds, pin) => tracked.read(advisorIds, place, pin)
      : (advisorIds) => readAdvisors(client, keys, advisorIds, candidates.decode),
    candidateText: (state) => candidates.textOf(state),
  };
}

export function createStoreContext(client: RedisClient, options: RedisMatchingStoreOptions): StoreContext {
  const keys = keySpace(options.prefix ?? DEFAULT_PREFIX);

  /** Runs a script on its entity's keys; a fenced one also gets the generation key, last (lua/lib/fence.lua). */
  const run = async <S extends ScriptName>(name: S, scriptKeys: string[], args: string[]): Promise<ScriptOutcome<S>> =>
    outcomeOf(name, await runScript(client, name, FENCED_SCRIPTS.has(name) ? [...scriptKeys, keys.generation] : scriptKeys, args));

  const loadAdvisor = async (advisorId: string) => decodeAdvisor(await client.get(keys.advisor(advisorId)));

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

  const loadAdvisors = (advisorIds: string[]) => readAdvisors(client, keys, advisorIds, (_id, raw) => decodeAdvisor(raw));

  async function loadMany<T>(ids: string[], load: (id: string) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    // Commands issued in the same tick go out together (node-redis pipelines them): one round trip per batch.
    for (let start = 0; start < ids.length; start += LOAD_BATCH) out.push(...(await Promise.all(ids.slice(start, start + LOAD_BATCH).map(load))));
    return out;
  }

  return {
    client,
    keys,
    options,
    run,
    loadAdvisor,
    ...requestReads(client, keys),
    writeAdvisor,
    capacityResult,
    loadAdvisors,
    ...candidateReads(client, keys, options.tracking),
    loadMany,
  };
}

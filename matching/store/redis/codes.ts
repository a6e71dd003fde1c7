/**
 * Script result codes. Every Lua script answers with an integer code (the first element of its
 * reply array, or the reply itself); this file is the one place that gives those codes meaning.
 *
 * CODES is also the Lua side's source: scripts.ts writes each `C.NAME` of a script as its number,
 * and gives `C[name]` lookups through the script's `--@include codes` line, so the two sides cannot
 * disagree on a number.
 */
import type { IneligibleReason } from "../../domain/eligibility.ts";
import { LiveStateUnavailableError } from "../port.ts";

export const CODES = {
  OK: 0,
  /** ok, but the call repeated an earlier one (or, for createRequest, the request already existed). */
  DUPLICATE: 1,

  NOT_FOUND: 10,
  UNKNOWN_ADVISOR: 11,
  NOT_LIVE: 12,
  STAGE_CHANGED: 13,
  /** Both the request-side refusal of addOffers and the eligibility reason. */
  EXCLUDED: 14,
  ALREADY_OFFERED: 15,
  NOT_YOURS: 16,
  ALREADY_TAKEN: 17,
  OFFER_EXPIRED: 18,
  OFFER_CLOSED: 19,
  ALREADY_CLOSED: 20,
  NOT_DUE: 21,
  OFFERS_OPEN: 22,
  INVALID_STATE: 23,

  STATUS: 31,
  PRESENCE: 32,
  CAPACITY: 33,
  LICENCE: 34,
  SUITABILITY: 35,
  LANGUAGE: 36,

  /**
   * The live-state fence (lua/lib/fence.lua): the generation key is missing, so the live state was
   * lost and is not rebuilt yet; the script did nothing. Never an outcome: outcomeOf throws
   * LiveStateUnavailableError for it.
   */
  REBUILDING: 40,
} as const;

export type CodeName = keyof typeof CODES;
export type Reason = Exclude<CodeName, "OK" | "DUPLICATE" | "REBUILDING">;

const CAPACITY_REFUSALS = ["UNKNOWN_ADVISOR", "STATUS", "PRESENCE", "CAPACITY", "LICENCE", "SUITABILITY", "LANGUAGE"] as const;

/** For each script, the refusals it may answer; anything else is a fault (a script bug), not an outcome. */
export const SCRIPT_REASONS = {
  upsertAdvisor: [],
  setPresence: ["UNKNOWN_ADVISOR"],
  holdPushSlot: CAPACITY_REFUSALS,
  checkBroadcastEligibility: CAPACITY_REFUSALS,
  takeAssignment: CAPACITY_REFUSALS,
  releaseAssignment: ["UNKNOWN_ADVISOR"],
  releasePushHold: ["UNKNOWN_ADVISOR"],
  recordAnswer: ["UNKNOWN_ADVISOR"],
  recordRating: ["UNKNOWN_ADVISOR"],
  setIncentive: ["UNKNOWN_ADVISOR"],
  restoreAdvisor: [],
  checkEligibility: ["EXCLUDED", "STATUS", "PRESENCE", "CAPACITY", "LICENCE", "SUITABILITY", "LANGUAGE"],
  createRequest: [],
  addOffers: ["NOT_FOUND", "NOT_LIVE", "STAGE_CHANGED", "EXCLUDED", "ALREADY_OFFERED"],
  makeOffers: ["NOT_FOUND", "NOT_LIVE", "STAGE_CHANGED"],
  claimOffer: ["NOT_FOUND", "NOT_YOURS", "ALREADY_TAKEN", "OFFER_EXPIRED", "OFFER_CLOSED", "NOT_LIVE"],
  acceptOffer: ["NOT_FOUND", "NOT_YOURS", "ALREADY_TAKEN", "OFFER_EXPIRED", "OFFER_CLOSED", "NOT_LIVE", ...CAPACITY_REFUSALS],
  closeOffer: ["NOT_FOUND", "NOT_YOURS", "ALREADY_CLOSED", "NOT_DUE"],
  resolveOffer: ["NOT_FOUND", "NOT_YOURS", "ALREADY_CLOSED", "NOT_DUE"],
  advanceStage: ["NOT_FOUND", "NOT_LIVE", "STAGE_CHANGED", "OFFERS_OPEN"],
  finishRequest: ["NOT_FOUND", "INVALID_STATE"],
  endRequest: ["NOT_FOUND", "NOT_YOURS", "INVALID_STATE"],
  reopenRequest: ["NOT_FOUND", "NOT_YOURS"],
  restoreRequest: [],
  claimDueDeadlines: [],
  setDeadlineIf: ["NOT_FOUND", "STAGE_CHANGED"],
  renewLease: ["NOT_YOURS"],
  releaseLease: ["NOT_YOURS"],
  expirePresence: ["UNKNOWN_ADVISOR", "NOT_DUE"],
  // Not a store operation: the shared per-principal rate limiter (app/rateLimit/redis.ts) runs
  // through the same loader so it gets the same SCRIPT LOAD / NOSCRIPT handling.
  rateLimit: [],
  // Not store operations either: the decision journal's persister (matching/journal/redis.ts).
  journalTake: [],
  journalAck: [],
} as const satisfies Record<string, readonly Reason[]>;

export type ScriptName = keyof typeof SCRIPT_REASONS;
export const SCRIPT_NAMES = Object.keys(SCRIPT_REASONS) as ScriptName[];

/**
 * The fenced scripts: every one that writes advisor or request state, and claimDueDeadlines. Each
 * takes the generation key as its last KEYS entry and answers REBUILDING when it is missing. Not
 * fenced: the restores (the rebuild writes with them), the leases, the keyless checkEligibility,
 * the read-only checkBroadcastEligibility and the rate limiter.
 */
export const FENCED_SCRIPTS: ReadonlySet<ScriptName> = new Set<ScriptName>([
  "upsertAdvisor",
  "setPresence",
  "expirePresence",
  "holdPushSlot",
  "takeAssignment",
  "releaseAssignment",
  "releasePushHold",
  "recordAnswer",
  "recordRating",
  "setIncentive",
  "createRequest",
  "addOffers",
  "makeOffers",
  "claimOffer",
  "acceptOffer",
  "closeOffer",
  "resolveOffer",
  "advanceStage",
  "finishRequest",
  "endRequest",
  "reopenRequest",
  "claimDueDeadlines",
]);

/**
 * Scripts that decide one engine action whole, across entities: the request, its advisors, the
 * global deadlines and queue, and the journal, in one step. They are why the store needs one Redis
 * primary rather than Redis Cluster (keys.ts); scripts.ts does not hold them to one hash slot.
 */
export const ACTION_SCRIPTS: ReadonlySet<ScriptName> = new Set<ScriptName>([
  "setDeadlineIf",
  "createRequest",
  "acceptOffer",
  "endRequest",
  "resolveOffer",
  "makeOffers",
  "advanceStage",
  "reopenRequest",
]);

/** A script's reply decoded: its outcome, and the reply elements after the code. */
export type ScriptOutcome<S extends ScriptName> =
  | { ok: true; duplicate: boolean; payload: unknown[] }
  | { ok: false; reason: (typeof SCRIPT_REASONS)[S][number]; payload: unknown[] };

// Compile-time check that the eligibility reasons are all codes.
const _reasonsAreCodes: Record<IneligibleReason, number> = CODES;
void _reasonsAreCodes;

const NAME_OF_CODE = new Map<number, CodeName>(Object.entries(CODES).map(([name, code]) => [code, name as CodeName]));

/**
 * THE mapping from a script reply to a typed outcome. REBUILDING from a fenced script throws
 * LiveStateUnavailableError (the caller retries once the live state is rebuilt). A code the script
 * is not documented to answer is an infrastructure fault and throws.
 */
export function outcomeOf<S extends ScriptName>(script: S, reply: unknown): ScriptOutcome<S> {
  const [first, ...payload] = Array.isArray(reply) ? reply : [reply];
  const code = typeof first === "number" ? first : Number.NaN;
  const name = NAME_OF_CODE.get(code);
  if (name === "OK" || name === "DUPLICATE") return { ok: true, duplicate: name === "DUPLICATE", payload };
  if (name === "REBUILDING" && FENCED_SCRIPTS.has(script)) throw new LiveStateUnavailableError(script);
  const allowed: readonly string[] = SCRIPT_REASONS[script];
  if (name === undefined || !allowed.includes(name)) {
    throw new Error(`redis matching store: script ${script} answered unexpected code ${String(first)}`);
  }
  return { ok: false, reason: name as (typeof SCRIPT_REASONS)[S][number], payload };
}

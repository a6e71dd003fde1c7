/**
 * The matching store port: the live state of supply (advisors) and demand (open requests, offers,
 * deadlines, the queue), and every atomic decision on it.
 *
 * Two adapters implement it with identical semantics, checked by one contract suite
 * (tests/matching/support/storeContract.ts): Redis (production, shared by every server process; each
 * operation below is one Lua script) and in-memory (embedded, one process).
 *
 * One decision, one step. Advisor-side operations touch one advisor's state and request-side ones
 * one request's; a decision that needs both (makeOffers, acceptOffer, resolveOffer, endRequest,
 * reopenRequest) is one atomic step over both, with its journal entry, so no crash can leave half
 * of it. Every step is idempotent. The shapes it works on are in state.ts.
 *
 * The live-state fence. The live state can be lost (a Redis restart without persistence, a
 * failover, a flush); its generation (getGeneration) is then null until a rebuild from the system of
 * record sets it again. Every operation that writes advisor or request state, and claimDueDeadlines,
 * checks in the same atomic step that the generation is set, and otherwise does nothing and throws
 * LiveStateUnavailableError: a decision taken on a half-restored state (an advisor recreated with no
 * assignments, a request missing its accepted offer) could break capacity or double-assign, and a
 * rebuild must not overwrite anything written after it read the record. Reads are not fenced (they
 * see whatever is there; a caller that may answer "not found" reads with lookupRequest, which tells
 * it whether the state it read from was live).
 * The restores, reset, the generation itself and the leases are not fenced: the rebuild uses them.
 * The in-memory adapter never loses its state while its process lives, so it never throws this
 * (after reset() it keeps accepting writes).
 *
 * Expected outcomes are values (`{ ok: false, reason }`); only infrastructure faults throw.
 * All times are epoch milliseconds supplied by the caller, so tests drive a manual clock.
 */
import type { OfferAnswer } from "../domain/ranking.ts";
import type { AcceptContext, AdvanceContext, CloseContext, EndContext, OfferContext, ReopenContext } from "../journal/draft.ts";
import type { AdvisorProfile, Presence, RequestFacts } from "../domain/types.ts";
import type {
  AcceptInput,
  AcceptResult,
  AddOffersResult,
  AdvanceResult,
  AdvisorState,
  CandidateQuery,
  CapacityResult,
  ClaimResult,
  CloseOfferResult,
  EndInput,
  EndResult,
  FinishResult,
  LiveRequest,
  OfferRoundInput,
  OfferRoundResult,
  OfferState,
  ReopenResult,
  ResolveInput,
  ResolveResult,
} from "./state.ts";

export * from "./state.ts";

export interface MatchingStore {
  readonly kind: "redis" | "memory";

  // ---- supply: one advisor per operation -------------------------------------------------------

  /**
   * Creates the advisor (presence offline, EMPTY_STATS, no holds) or replaces its profile, keeping
   * presence, stats, assignments and holds. Re-indexes it for candidate lookup. Idempotent.
   */
  upsertAdvisor(profile: AdvisorProfile, now: number): Promise<AdvisorState>;

  /**
   * Sets presence and records a heartbeat at `now`. This call is also the heartbeat. With
   * `onlyIfNewer`, it changes nothing unless the stored heartbeatAt is older than `now` (and answers
   * ok with the advisor as stored): a presence reported earlier and re-applied after a rebuild never
   * overrides a later heartbeat. `previous` is the presence just before this call, read in the same
   * atomic step: the call changed presence (a transition, which the presence history records) exactly
   * when it was applied and `previous` differs; a heartbeat re-reporting the same presence is none.
   */
  setPresence(
    advisorId: string,
    presence: Presence,
    now: number,
    options?: { onlyIfNewer?: boolean },
  ): Promise<{ ok: true; advisor: AdvisorState; previous: Presence } | { ok: false; reason: "UNKNOWN_ADVISOR" }>;

  /**
   * Sets presence offline only if the advisor's heartbeatAt is still < `heartbeatBefore`, in one
   * atomic step, so a heartbeat that arrives after findLapsedAdvisors answered keeps the advisor
   * online (NOT_DUE). heartbeatAt is left as it was: this is not a heartbeat. An advisor already
   * offline returns ok with duplicate true and changes nothing. Leaves the candidate index like
   * setPresence does.
   */
  expirePresence(
    advisorId: string,
    heartbeatBefore: number,
  ): Promise<{ ok: true; advisor: AdvisorState; duplicate: boolean } | { ok: false; reason: "UNKNOWN_ADVISOR" | "NOT_DUE" }>;

  /**
   * Ids of up to `limit` advisors whose presence is not offline and whose heartbeatAt <
   * `heartbeatBefore` (their client stopped sending heartbeats), oldest heartbeat first, ties by
   * id. Cost grows with `limit`, not with the number of registered advisors. A hint, like
   * findCandidates: the caller expires each one with expirePresence, which re-checks atomically.
   */
  findLapsedAdvisors(heartbeatBefore: number, limit: number): Promise<string[]>;

  /**
   * How many advisors have presence available and heartbeatAt >= `heartbeatAfter` (the supply
   * gauge). Cheap whatever the number of advisors; in the Redis adapter it may briefly trail a
   * write that is still re-syncing its hint structures (see redis/keys.ts).
   */
  countAvailable(heartbeatAfter: number): Promise<number>;

  getAdvisor(advisorId: string): Promise<AdvisorState | null>;

  /** Same order as `advisorIds`; null for unknown ids. */
  getAdvisors(advisorIds: string[]): Promise<Array<AdvisorState | null>>;

  /**
   * Up to `limit` advisors who, by the index, are active, available, below maxConcurrent in
   * assignments, hold an active-status licence of the kind, speak the language (when given) and
   * whose suitability scope is >= minRisk; in pool order: longest since last assignment first,
   * then id. Cost grows with `limit`, not with the number of registered advisors.
   *
   * Results are hints: a heartbeat may have lapsed, a licence's validity window may have closed,
   * push holds may fill the capacity. Callers check eligibility, and the capacity operations below
   * re-check it atomically.
   */
  findCandidates(query: CandidateQuery): Promise<AdvisorState[]>;

  /**
   * Atomically checks eligibility for a push offer (capacityRule "push": active + pendingPush <
   * maxConcurrent; all other rules as checkEligibility, without EXCLUDED, which is request-side)
   * and holds a slot for `offerId`. Idempotent: a held offerId returns ok with duplicate true.
   */
  holdPushSlot(advisorId: string, request: RequestFacts, offerId: string, now: number, presenceTtlMs: number): Promise<CapacityResult>;

  /** Atomically checks eligibility for a broadcast offer (capacityRule "broadcast"); holds nothing. */
  checkBroadcastEligibility(advisorId: string, request: RequestFacts, now: number, presenceTtlMs: number): Promise<CapacityResult>;

  /**
   * The advisor's half of an accept: atomically checks eligibility and takes a capacity slot for
   * `request`. When `offerId` is one of the advisor's push holds, that hold converts into the
   * assignment (capacityRule "accept"); otherwise push holds keep their slots (capacityRule "push").
   * Sets stats.lastAssignedAt = now. Idempotent: a request already in assignments returns ok with
   * duplicate true and changes nothing.
   */
  takeAssignment(advisorId: string, request: RequestFacts, offerId: string, now: number, presenceTtlMs: number): Promise<CapacityResult>;

  /**
   * A whole accept in one atomic step: claimOffer's checks and effect on the request, then
   * takeAssignment's on the advisor (refused: nothing changes, so a lost claim never holds a slot
   * and a won claim never lacks one), the superseded push offers' holds released, the answer folded
   * into the advisor's responsiveness (as recordAnswer, accepted, latency now - sentAt), the
   * request's deadline cleared and out of the queue. The winner asking again answers ok with
   * duplicate true and changes nothing.
   *
   * `journal`: the events' context. A store that journals (the Redis store created with
   * `journal: true`) appends the decision's draft to the journal in the same step and returns its
   * id; otherwise journalId is null and the caller records materialize(draft) itself (the memory
   * store: its journal lives and dies with the same process, and nothing can fail in between).
   */
  acceptOffer(input: AcceptInput, journal: AcceptContext | null): Promise<AcceptResult>;

  /** Drops `requestId` from the advisor's assignments, freeing its slot. Idempotent. */
  releaseAssignment(advisorId: string, requestId: string): Promise<AdvisorState | null>;

  /** Drops the push hold for `offerId`, freeing its slot. Idempotent. */
  releasePushHold(advisorId: string, offerId: string): Promise<AdvisorState | null>;

  /** Folds an offer answer into the responsiveness EWMAs (updateResponsiveness, alpha 0.2). */
  recordAnswer(advisorId: string, answer: OfferAnswer): Promise<void>;

  /** Adds a rating to the advisor's rating sum and count. */
  recordRating(advisorId: string, stars: number): Promise<void>;

  /** Sets the incentive ranking input (clamped to 0..1). */
  setIncentive(advisorId: string, value: number): Promise<void>;

  // ---- demand: one request per operation -------------------------------------------------------

  /**
   * Registers a new live request (status pending, the given stage, no offers) with its first
   * deadline. Idempotent on facts.id: an existing request is returned with created false.
   */
  createRequest(facts: RequestFacts, init: { stageIndex: number; now: number; deadline: number }): Promise<{ request: LiveRequest; created: boolean }>;

  getRequest(requestId: string): Promise<LiveRequest | null>;

  /**
   * getRequest and, in the same atomic read, whether the live state was live (isLive). A request
   * absent from a live state does not exist there; absent from a lost one, it is unknown until the
   * rebuild: the caller answers "retry", even when the rebuild has finished by the time it answers
   * (asking isLive after a separate read could then answer "not found" for a request it restored).
   */
  lookupRequest(requestId: string): Promise<{ request: LiveRequest | null; live: boolean }>;

  /**
   * Records open offers, all or nothing, only if the request is live and unassigned (else
   * NOT_LIVE), still at `stageIndex` (else STAGE_CHANGED), none goes to an excluded advisor (else
   * EXCLUDED) and none to an advisor with an open offer for it (else ALREADY_OFFERED). Status
   * becomes offered; offersInStage grows by the number of offers.
   */
  addOffers(requestId: string, stageIndex: number, offers: OfferState[], now: number): Promise<AddOffersResult>;

  /**
   * One offer round in one atomic step: the request must be live and unassigned (NOT_LIVE) and at
   * `stageIndex` (STAGE_CHANGED); candidates it excludes or has an open offer for are skipped. A
   * push walks down the candidates and holds the first eligible one's slot (holdPushSlot's rule); a
   * broadcast re-checks each (checkBroadcastEligibility's rule) up to `count`. The offers are
   * recorded (status offered, offersInStage grows) and the request's deadline moves to
   * `expiresAt`. `journal` as for acceptOffer.
   */
  makeOffers(input: OfferRoundInput, journal: OfferContext | null): Promise<OfferRoundResult>;

  /**
   * The request's half of an accept: the first claim wins. Checked in order: offer unknown
   * (NOT_FOUND), not the advisor's (NOT_YOURS), request assigned to someone else or this offer
   * lost_race (ALREADY_TAKEN), request terminal (NOT_LIVE), offer closed otherwise (OFFER_CLOSED),
   * expiresAt <= now (OFFER_EXPIRED). On success the offer is accepted, the request assigned, and
   * every other open offer closed: broadcast ones lost_race, push ones withdrawn; all of them are
   * returned as superseded (the caller tells their advisors and frees push holds); the request
   * leaves the queue. A repeat claim of the winning offer returns ok with
   * duplicate true and no second effect.
   */
  claimOffer(requestId: string, offerId: string, advisorId: string, now: number): Promise<ClaimResult>;

  /**
   * Closes one open offer as declined, timed_out or withdrawn. When `advisorId` is given the offer
   * must be theirs (NOT_YOURS). timed_out requires expiresAt <= now (NOT_DUE). declined and
   * timed_out exclude the advisor from this request. When no open offer remains and the request was
   * offered, it becomes pending. An offer already closed returns ALREADY_CLOSED with the offer.
   */
  closeOffer(requestId: string, offerId: string, outcome: "declined" | "timed_out" | "withdrawn", now: number, advisorId?: string): Promise<CloseOfferResult>;

  /**
   * Closes one open offer whole, in one atomic step: closeOffer's checks and effect, its push hold
   * released, a decline or a timeout folded into the advisor's responsiveness (as recordAnswer,
   * not accepted), and the deadline moved when `deadline` is given. `journal` as for acceptOffer.
   */
  resolveOffer(input: ResolveInput, journal: CloseContext | null): Promise<ResolveResult>;

  /**
   * Compare-and-set move from `fromStageIndex` to `toStageIndex` for a live, unassigned request
   * with no open offer. offersInStage resets, stageStartedAt = now. A non-null queueScore puts the
   * request in the queue (served lowest score first). `journal` as for acceptOffer.
   */
  advanceStage(
    requestId: string,
    move: { fromStageIndex: number; toStageIndex: number; now: number; queueScore: number | null },
    journal?: AdvanceContext | null,
  ): Promise<AdvanceResult>;

  /**
   * Ends a request: completed (from assigned), cancelled (from pending, offered or assigned) or
   * expired (from pending or offered; callbackRequested as given). Open offers are withdrawn and
   * returned; the request leaves the queue and the deadlines. A repeat of the same end returns ok
   * with duplicate true; any other state gives INVALID_STATE. The caller releases advisor slots.
   */
  finishRequest(requestId: string, end: { to: "completed" | "cancelled" | "expired"; now: number; callbackRequested?: boolean }): Promise<FinishResult>;

  /**
   * A request's end in one atomic step: finishRequest's checks and effect, after the `assignee`
   * check when one is given; the withdrawn push offers' holds and the assignee's slot (completed,
   * cancelled) released; out of the deadlines and the queue. The same end again is a duplicate
   * with no effect. `journal` as for acceptOffer.
   */
  endRequest(input: EndInput, journal: EndContext | null): Promise<EndResult>;

  /**
   * Takes an assigned request away from its advisor and puts it back in the funnel (the advisor left
   * the firm): only when it is assigned to `advisorId` right now, else NOT_YOURS (so a repeat, or a
   * request completed meanwhile, changes nothing). It becomes pending at stage 0, stageStartedAt =
   * now, offersInStage 0, no assignee, with the advisor excluded from it for good. Offers keep their
   * history (the old accepted offer stays accepted). In the same atomic step the advisor's slot is
   * freed and, when `deadline` is given, the request's deadline set (the funnel runs again).
   * `journal` as for acceptOffer.
   */
  reopenRequest(requestId: string, change: { advisorId: string; now: number; deadline?: number }, journal?: ReopenContext | null): Promise<ReopenResult>;

  // ---- timers and queue --------------------------------------------------------------------------

  /** Sets (or moves) the request's single pending deadline. */
  setDeadline(requestId: string, at: number): Promise<void>;

  /**
   * Sets the deadline only while the request is at revision `rev` (LiveRequest.rev), in one atomic
   * step: true when it did. A funnel pass ends with this, so a pass that ran late (another one,
   * woken meanwhile, already decided and set the deadline) never pushes the deadline out.
   */
  setDeadlineIf(requestId: string, at: number, rev: number): Promise<boolean>;

  getDeadline(requestId: string): Promise<number | null>;

  /** Removes the request's deadline (assigned requests wait on their advisor, not on a timer). Idempotent. */
  clearDeadline(requestId: string): Promise<void>;

  /**
   * Leases up to `limit` requests whose deadline is <= now: each returned id's deadline moves to
   * now + leaseMs in the same step, so concurrent sweepers never get the same id within a lease,
   * and a sweeper that dies leaves the deadline to fire again after the lease.
   */
  claimDueDeadlines(now: number, leaseMs: number, limit: number): Promise<string[]>;

  /** Queued request ids, lowest queue score first (ties by id). */
  listQueue(limit: number): Promise<string[]>;

  /** Ids of every request that is not terminal. */
  listLiveRequestIds(): Promise<string[]>;

  // ---- rebuild and leases --------------------------------------------------------------------------

  /**
   * The live state's generation: written after a rebuild from the system of record. null means the
   * live state is new or was lost (a flushed or replaced Redis) and must be rebuilt; while it is null
   * every fenced operation throws LiveStateUnavailableError (Redis).
   */
  getGeneration(): Promise<string | null>;

  setGeneration(generation: string): Promise<void>;

  /**
   * False while the fence is closed: the live state is lost and not rebuilt yet (Redis: the
   * generation is missing). A caller that finds nothing reads it with the request (lookupRequest).
   * The in-memory adapter is always live.
   */
  isLive(): Promise<boolean>;

  /** Takes the named lease when nobody holds it (SET NX PX in Redis); true when `token` now holds it. */
  acquireLease(name: string, token: string, ttlMs: number): Promise<boolean>;

  /** Extends the lease if `token` still holds it; false when it was lost. */
  renewLease(name: string, token: string, ttlMs: number): Promise<boolean>;

  /** Releases the lease only if `token` still holds it. */
  releaseLease(name: string, token: string): Promise<void>;

  /**
   * Closes the fence if the generation is still `generation` (Redis: deletes it in one step), so the
   * next rebuild replaces the live state. For a live state that may have silently lost writes (a
   * failover to a replica that lagged) rather than lost everything. True when this call closed it.
   */
  retireGeneration(generation: string): Promise<boolean>;

  /**
   * Removes every key this store owns (its namespace only), generation and leases included; with
   * `keepLeases`, the leases (and, in Redis, the journal, which has its own consumers) stay, so a
   * rebuild holding its lease can empty the store under it.
   */
  reset(options?: { keepLeases?: boolean }): Promise<void>;

  /** Writes an advisor exactly as given (rebuild from the system of record); re-indexes it. */
  restoreAdvisor(state: AdvisorState): Promise<void>;

  /** Writes a request exactly as given, with its deadline and queue membership (rebuild). */
  restoreRequest(request: LiveRequest, deadline: number | null): Promise<void>;

  close(): Promise<void>;
}

/** The lifecycle part of the store (reset, restore, the generation fence, leases, close), as each adapter builds it. */
export type MatchingStoreLifecycle = Pick<
  MatchingStore,
  | "reset"
  | "restoreAdvisor"
  | "restoreRequest"
  | "getGeneration"
  | "setGeneration"
  | "retireGeneration"
  | "isLive"
  | "acquireLease"
  | "renewLease"
  | "releaseLease"
  | "close"
>;

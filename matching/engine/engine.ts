/**
 * The matching engine: runs requests through their branch's funnel, and turns advisor and client
 * actions into atomic store decisions, persisted records and domain events.
 *
 * Concurrency model. Every decision is one atomic store operation; the engine never decides on a
 * value it read earlier. Funnel progress for a request only runs while holding that request's
 * deadline lease (claimDueDeadlines), so two processes never run the same request's funnel at once;
 * actions that should move a funnel on (create, decline) make its deadline due and run a tick.
 * Order per transition: store decision, then its journal entry (PostgreSQL follows through the
 * persisters; the engine waits for it, bounded), then the event.
 *
 * Losing the live state. When the store loses its data, every decision is fenced off
 * (LiveStateUnavailableError, a 503 for API callers) until one process rebuilds it: it persists
 * the whole journal first (`beforeRebuild`), then restores from PostgreSQL and sets the new
 * generation. Reads that find nothing check the fence before answering "not found". Each process
 * remembers the latest presence every advisor reported to it, and re-applies those after a rebuild
 * (its own, or one it notices through ensureLiveState), so matching resumes without waiting for the
 * next heartbeats.
 */
import type { Clock } from "../../core/clock.ts";
import { failpoint } from "../../core/failpoints.ts";
import { newId, requestIdOfOffer } from "../../core/ids.ts";
import type { DomainEvent, EventBus } from "../events.ts";
import { maxWaitDeadline, nextStep, queueScore, stageName, stagesFor, type StagePlan } from "../domain/funnel.ts";
import { checkEligibility } from "../domain/eligibility.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import type { Channel, LicenceKind, Pool, Presence, RequestFacts, RequestMode, RequestStatus } from "../domain/types.ts";
import {
  materialize,
  type AcceptContext,
  type AdvanceContext,
  type CloseContext,
  type Draft,
  type EndContext,
  type OfferContext,
  type ReopenContext,
} from "../journal/draft.ts";
import { directRecorder, type Recorder } from "../journal/recorder.ts";
import type { MatchingRecords } from "../records/port.ts";
import {
  isLiveStateUnavailable,
  LiveStateUnavailableError,
  type AdvisorState,
  type LiveRequest,
  type MatchingStore,
  type ResolveResult,
} from "../store/port.ts";
import { makeOffers } from "./offering.ts";
import { reconcile, reconcileSupply, type ReconcileReport, type SupplyReport } from "./reconciler.ts";
import { PolicyCache } from "./policies.ts";

export interface EngineOptions {
  store: MatchingStore;
  records: MatchingRecords;
  /** Where decisions go on their way to the record: the journal in a server, the record directly by default. */
  recorder?: Recorder;
  bus: EventBus;
  clock: Clock;
  /** A heartbeat older than this counts as offline (default 45 s). */
  presenceTtlMs?: number;
  /** How long a sweeper owns a due request before another may take it over (default 10 s). */
  leaseMs?: number;
  /** How long a branch policy is cached (default 2 s): a manager's change applies within this. */
  policyTtlMs?: number;
  onError?: (error: unknown, context: string) => void;
  /**
   * Runs while this process holds the rebuild lease, before the rebuild reads PostgreSQL: a server
   * persists every journal entry here (whoever holds it), so the record holds every decision taken
   * before the loss that survived in the journal. Decisions are fenced while the live state is
   * missing, so nothing new is decided between this and the new generation.
   */
  beforeRebuild?: () => Promise<void>;
}

export interface NewRequest {
  clientId: string;
  topic: string;
  requiredLicence: LicenceKind;
  channel: Channel;
  mode: RequestMode;
  language: string | null;
  priority: number;
  idempotencyKey?: string | null;
  requestHash?: string | null;
}

export type CreateOutcome =
  /** status: as the live store has it after the first funnel pass; null for a replay (not read). */
  | { ok: true; requestId: string; created: boolean; status: RequestStatus | null }
  /** OVERLOADED: persistence trails too far behind; nothing was created, retry shortly. */
  | { ok: false; reason: "UNKNOWN_CLIENT" | "IDEMPOTENCY_CONFLICT" | "OVERLOADED" };

export type AcceptOutcome =
  | { ok: true; requestId: string; duplicate: boolean }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "OFFER_EXPIRED" | "ALREADY_TAKEN" | "AT_CAPACITY" | "NOT_ELIGIBLE" };

export type DeclineOutcome = { ok: true; requestId: string } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "ALREADY_CLOSED" };

export type RateOutcome = { ok: true } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "NOT_COMPLETED" | "ALREADY_RATED" };

export type FinishOutcome = { ok: true; duplicate: boolean } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "INVALID_STATE" };

/** How many steps one progress pass may take before it yields (a guard against a bad policy loop). */
const MAX_STEPS_PER_PASS = 32;
/** Presences re-applied at once after a rebuild. */
const REPLAY_BATCH = 50;
/** How long the rebuild lease lasts: a rebuilder that dies is taken over after this. */
const REBUILD_LEASE_MS = 60_000;

/** When the live state of a generation (as ensureLiveState writes it, `<ms>:<token>`) was rebuilt; NaN for another shape. */
const rebuiltAtOf = (generation: string | null): number => Number(generation?.slice(0, generation.indexOf(":")) ?? Number.NaN);

export class MatchingEngine {
  readonly store: MatchingStore;
  private readonly records: MatchingRecords;
  private readonly recorder: Recorder;
  private readonly bus: EventBus;
  private readonly clock: Clock;
  private readonly policies: PolicyCache;
  private readonly presenceTtlMs: number;
  private readonly leaseMs: number;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly beforeRebuild: () => Promise<void>;
  /**
   * The latest presence each advisor reported to this process, and when, in report order (oldest
   * first), kept for the presence TTL: re-applied after a rebuild.
   */
  private readonly reported = new Map<string, { presence: Presence; at: number }>();
  /** The generation this process last acted on; undefined until it first looked. */
  private knownGeneration: string | null | undefined = undefined;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.records = options.records;
    this.recorder = options.recorder ?? directRecorder((decisions) => options.records.applyJournal(decisions));
    this.bus = options.bus;
    this.clock = options.clock;
    this.policies = new PolicyCache(options.records, options.clock, options.policyTtlMs);
    this.presenceTtlMs = options.presenceTtlMs ?? 45_000;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.onError = options.onError ?? (() => {});
    this.beforeRebuild = options.beforeRebuild ?? (async () => {});
  }

  // ---- demand ------------------------------------------------------------------------------------

  async createRequest(input: NewRequest): Promise<CreateOutcome> {
    // Backpressure: new work waits while the record trails; accepts, declines and completes go on.
    if (await this.recorder.overloaded()) return { ok: false, reason: "OVERLOADED" };
    // The row goes first, so refuse before writing it while the live state is missing (a rebuild
    // would restore it, but the caller is told to retry).
    await this.assertLive("createRequest");
    const now = this.clock.now();
    const client = await this.records.clientContext(input.clientId);
    if (!client) return { ok: false, reason: "UNKNOWN_CLIENT" };
    const policy = await this.policies.get(client.branchId);
    const stages = stagesFor(policy, input.mode);
    const facts: RequestFacts = {
      id: newId("request", now),
      clientId: client.clientId,
      branchId: client.branchId,
      region: client.region,
      requiredLicence: input.requiredLicence,
      riskLevel: client.riskLevel,
      language: input.language,
      priority: input.priority,
      dedicatedAdvisorId: client.dedicatedAdvisorId,
      mode: input.mode,
      createdAt: now,
    };
    // The row first: once the client has an id, the request survives any crash after this point.
    const created = this.stamp({
      type: "request.created",
      requestId: facts.id,
      branchId: facts.branchId,
      clientId: facts.clientId,
      requiredLicence: facts.requiredLicence,
      priority: facts.priority,
      topic: input.topic,
      channel: input.channel,
    });
    const inserted = await this.records.insertRequest(
      {
        facts,
        topic: input.topic,
        channel: input.channel,
        stageIndex: 0,
        stage: stages[0]?.pool ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash: input.requestHash ?? null,
      },
      [created],
    );
    if (!inserted.created) {
      return inserted.sameBody ? { ok: true, requestId: inserted.requestId, created: false, status: null } : { ok: false, reason: "IDEMPOTENCY_CONFLICT" };
    }
    // Created under this call's own lease (the deadline a lease away), so its first pass runs here.
    const opened = await this.store.createRequest(facts, { stageIndex: 0, now, deadline: now + this.leaseMs });
    await this.publish([created]);
    // The pass starts from the state the store step answered with and ends with the one it last
    // wrote or read: the client's answer is never older than that, and neither needs a read.
    const passed = await this.passUnderLease(facts.id, opened.request);
    const live = passed === undefined ? await this.store.getRequest(facts.id) : passed;
    return { ok: true, requestId: facts.id, created: true, status: live?.status ?? "pending" };
  }

  async cancel(requestId: string, clientId: string): Promise<FinishOutcome> {
    const request = await this.store.getRequest(requestId);
    if (!request) return this.notFound("cancel");
    if (request.facts.clientId !== clientId) return { ok: false, reason: "NOT_YOURS" };
    return this.finish(request, "cancelled");
  }

  async complete(requestId: string, advisorId: string): Promise<FinishOutcome> {
    const request = await this.store.getRequest(requestId);
    if (!request) return this.notFound("complete");
    if (request.assignedAdvisorId !== advisorId) return { ok: false, reason: "NOT_YOURS" };
    return this.finish(request, "completed", advisorId);
  }

  /**
   * A client rates a completed request, once. The rating feeds the advisor's Bayesian rating for
   * ranking and is announced as request.rated.
   */
  async rate(requestId: string, clientId: string, stars: number, comment: string | null): Promise<RateOutcome> {
    const summary = await this.records.requestSummary(requestId);
    if (!summary) return { ok: false, reason: "NOT_FOUND" };
    if (summary.clientId !== clientId) return { ok: false, reason: "NOT_YOURS" };
    if (summary.status !== "completed" || !summary.assignedAdvisorId) return { ok: false, reason: "NOT_COMPLETED" };
    const now = this.clock.now();
    const rated = this.stamp({
      type: "request.rated",
      requestId,
      branchId: summary.branchId,
      advisorId: summary.assignedAdvisorId,
      clientId,
      stars,
      requiredLicence: summary.requiredLicence,
    });
    const inserted = await this.records.insertRating(
      { id: newId("rating", now), requestId, advisorId: summary.assignedAdvisorId, clientId, stars, comment, at: now },
      [rated],
    );
    if (!inserted.ok) return inserted;
    try {
      await this.store.recordRating(summary.assignedAdvisorId, stars);
    } catch (error) {
      // The rating is recorded; the live rating sum is rebuilt from the record, so a lost live
      // state loses nothing here (a rebuild that read the record just before this insert misses it
      // until the next rebuild: a ranking input, not a decision).
      if (!isLiveStateUnavailable(error)) throw error;
    }
    await this.publish([rated]);
    return { ok: true };
  }

  // ---- supply ------------------------------------------------------------------------------------

  /** Loads (or refreshes) an advisor from the directory into the live store. */
  async syncAdvisor(advisorId: string): Promise<AdvisorState | null> {
    const profile = await this.records.advisorProfile(advisorId);
    if (!profile) return null;
    const state = await this.store.upsertAdvisor(profile, this.clock.now());
    await this.serveQueue(state);
    return state;
  }

  /**
   * Presence change and heartbeat. An advisor becoming available is offered waiting requests. The
   * report is remembered first (for the presence TTL), so one that arrives while the live state is
   * missing (LiveStateUnavailableError) is still applied once it is rebuilt.
   */
  async setPresence(advisorId: string, presence: Presence): Promise<{ ok: true; advisor: AdvisorState } | { ok: false; reason: "UNKNOWN_ADVISOR" }> {
    const now = this.clock.now();
    this.remember(advisorId, presence, now);
    let result = await this.store.setPresence(advisorId, presence, now);
    if (!result.ok) {
      // Not in the live store yet (a new advisor, or one the rebuild did not know): load from the
      // directory. upsertAdvisor is fenced like setPresence, so it never recreates an advisor (with
      // no assignments) while a rebuild is pending: that throws LiveStateUnavailableError instead.
      if (!(await this.syncAdvisor(advisorId))) return result;
      result = await this.store.setPresence(advisorId, presence, this.clock.now());
      if (!result.ok) return result;
    }
    if (presence === "available") await this.serveQueue(result.advisor);
    return result;
  }

  /**
   * An accept is one atomic store step (MatchingStore.acceptOffer): the claim, the capacity slot,
   * the superseded holds, the answer and, on a journaling store, the journal entry. The engine only
   * prepares the events' context before it (stage names, demand, event ids) and waits for the
   * record and announces the events after it.
   */
  async accept(offerId: string, advisorId: string): Promise<AcceptOutcome> {
    const now = this.clock.now();
    const requestId = await this.requestOfOffer(offerId);
    const request = requestId ? await this.store.getRequest(requestId) : null;
    if (requestId && !request) return this.notFound("accept");
    const offer = request?.offers.find((o) => o.id === offerId);
    if (!request || !offer) return { ok: false, reason: "NOT_FOUND" };
    if (offer.advisorId !== advisorId) return { ok: false, reason: "NOT_YOURS" };
    // Cheap early answers from what we just read (they spare the demand query); the store decides.
    if (request.assignedAdvisorId !== null && request.assignedAdvisorId !== advisorId) return { ok: false, reason: "ALREADY_TAKEN" };
    if (request.assignedAdvisorId === null && offer.outcome === null && offer.expiresAt <= now) return { ok: false, reason: "OFFER_EXPIRED" };

    const [stages, demand] = await Promise.all([this.stagesOf(request), this.demandFor(request.facts.branchId, request.facts.requiredLicence)]);
    const open = request.offers.filter((o) => o.outcome === null).length;
    const context: AcceptContext = {
      kind: "accept",
      // One per superseded offer the engine can see, plus offer.accepted and request.assigned.
      eventIds: Array.from({ length: open + 2 }, () => newId("auditEvent", now)),
      at: now,
      stages: stages.map((stage) => stage.pool),
      demand,
    };
    const attempt = () =>
      this.store.acceptOffer(
        { requestId: request.facts.id, language: request.facts.language, offerId, advisorId, now, presenceTtlMs: this.presenceTtlMs },
        context,
      );
    let result = await attempt();
    if (!result.ok && result.reason === "PRESENCE") {
      // Right after a rebuild every advisor is offline until their presence is re-applied: use
      // what they reported to this process, or, when nobody has re-applied it yet, ask them to retry.
      if (await this.reapplyPresence(advisorId)) result = await attempt();
      if (!result.ok && result.reason === "PRESENCE" && (await this.presenceUnknownSinceRebuild(advisorId))) {
        throw new LiveStateUnavailableError("accept", "the live state was just rebuilt and this advisor's presence is not restored yet");
      }
    }
    if (!result.ok) {
      switch (result.reason) {
        case "ALREADY_TAKEN":
        case "NOT_LIVE":
          return { ok: false, reason: "ALREADY_TAKEN" };
        case "NOT_FOUND":
        case "NOT_YOURS":
          return { ok: false, reason: result.reason };
        case "OFFER_CLOSED":
        case "OFFER_EXPIRED":
          return { ok: false, reason: "OFFER_EXPIRED" };
        case "CAPACITY":
          return { ok: false, reason: "AT_CAPACITY" };
        default:
          return { ok: false, reason: "NOT_ELIGIBLE" };
      }
    }
    if (result.duplicate) return { ok: true, requestId: request.facts.id, duplicate: true };

    await this.settle({ context, request: result.request, offer: result.offer, superseded: result.superseded }, result.journalId);
    return { ok: true, requestId: request.facts.id, duplicate: false };
  }

  async decline(offerId: string, advisorId: string): Promise<DeclineOutcome> {
    const requestId = await this.requestOfOffer(offerId);
    if (!requestId) return { ok: false, reason: "NOT_FOUND" };
    const closed = await this.closeAndMoveOn(requestId, offerId, { outcome: "declined", advisorId });
    if (!closed.ok) return { ok: false, reason: closed.reason === "NOT_DUE" ? "ALREADY_CLOSED" : closed.reason };
    return { ok: true, requestId };
  }

  /**
   * Withdraws one open offer for a reason outside the funnel (e.g. the advisor's licence lapsed):
   * closes it as withdrawn, frees its push hold, persists and announces it (offer.withdrawn with
   * `reason`), then moves the request's funnel on at once, as a decline does. The advisor is not
   * excluded from the request. True when this call closed the offer; false when the offer is
   * unknown or was already closed (answered, expired or withdrawn before). Callers that already know
   * the offer's request pass it and save a lookup.
   */
  async withdrawOffer(offerId: string, reason: string, knownRequestId?: string): Promise<boolean> {
    const requestId = knownRequestId ?? (await this.requestOfOffer(offerId));
    if (!requestId) return false;
    return (await this.closeAndMoveOn(requestId, offerId, { outcome: "withdrawn", reason })).ok;
  }

  /**
   * Closes one open offer outside the funnel's timers (a decline, a withdrawal), records it, and
   * moves the request's funnel on now rather than at the offer's expiry.
   */
  private async closeAndMoveOn(
    requestId: string,
    offerId: string,
    close: { outcome: "declined"; advisorId: string } | { outcome: "withdrawn"; reason: string },
  ): Promise<ResolveResult> {
    const now = this.clock.now();
    const request = await this.store.getRequest(requestId);
    if (!request) return this.notFound("close offer");
    const closed = await this.resolve(request, offerId, close.outcome, now, {
      // The funnel moves on now rather than at the offer's expiry: under this call's lease, taken in
      // the same step, and run here.
      deadline: now + this.leaseMs,
      ...(close.outcome === "declined" ? { advisorId: close.advisorId } : { reason: close.reason }),
    });
    if (closed.ok) await this.passUnderLease(requestId);
    return closed;
  }

  /**
   * Takes an assigned, uncompleted request back from `advisorId` (who is leaving) and runs it
   * through the funnel again from its first stage, never offering it to them again. NOT_YOURS when
   * the request is not assigned to them now (already taken back, completed or cancelled), so a
   * repeat is harmless. The request's overall wait still counts from its creation: when that has
   * run out by the end of the last stage it ends with a callback instead of waiting in the queue.
   */
  async redispatch(requestId: string, advisorId: string, reason: string): Promise<{ ok: true } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" }> {
    const now = this.clock.now();
    const known = await this.store.getRequest(requestId);
    if (!known) return this.notFound("redispatch");
    const stages = await this.stagesOf(known);
    const context: ReopenContext = { kind: "reopen", eventIds: [newId("auditEvent", now)], at: now, stages: stages.map((s) => s.pool), advisorId, reason };
    // One step: back in the funnel, the advisor's slot freed, under this call's lease, journaled.
    const reopened = await this.store.reopenRequest(requestId, { advisorId, now, deadline: now + this.leaseMs }, context);
    if (!reopened.ok) return reopened;
    await this.settle({ context, request: reopened.request }, reopened.journalId);
    await this.passUnderLease(requestId);
    return { ok: true };
  }

  // ---- timers ------------------------------------------------------------------------------------

  /**
   * Runs the funnel for every request whose deadline is due, each under its lease. Returns how many
   * requests it handled. The sweeper calls this on an interval; tests call it after moving the clock.
   */
  async tick(limit = 100): Promise<number> {
    let due: string[];
    try {
      due = await this.store.claimDueDeadlines(this.clock.now(), this.leaseMs, limit);
    } catch (error) {
      // The live state is being rebuilt: nothing is due until it is (the rebuild sets every live
      // request's deadline).
      if (isLiveStateUnavailable(error)) return 0;
      throw error;
    }
    await Promise.all(due.map((id) => this.passUnderLease(id)));
    return due.length;
  }

  /**
   * One pass of a request whose lease this process holds: one tick claimed (every due request), or
   * the calling action took in its own store step (its deadline set a lease away), so a create, a
   * decline or a redispatch answers after its own request's pass, not after every request that
   * happens to be due (under load, a create waited on up to 100 other requests' passes). The lease
   * lapses and the deadline fires again: a failed pass is retried, never lost. A pass cut short by a
   * lost live state is not a fault: the rebuild sets its deadline again.
   */
  private async passUnderLease(requestId: string, known?: LiveRequest): Promise<LiveRequest | null | undefined> {
    return await this.progress(requestId, known).catch((error) => {
      if (!isLiveStateUnavailable(error)) this.onError(error, `progress ${requestId}`);
      return undefined;
    });
  }

  /**
   * One funnel pass for a request whose lease the caller holds, from `known` (the state a store
   * step of this call just answered with) or a read. Answers the state the pass last wrote or read
   * (null: the request is gone; undefined: not known, after an ending the caller may read).
   */
  private async progress(requestId: string, known?: LiveRequest): Promise<LiveRequest | null | undefined> {
    let request = known ?? (await this.store.getRequest(requestId));
    if (!request) {
      // Gone for good, unless the live state was lost meanwhile: then the rebuild restores it with
      // its deadline, which must not be cleared.
      await this.assertLive("progress");
      await this.store.clearDeadline(requestId);
      return null;
    }
    const policy = await this.policies.get(request.facts.branchId);
    const stages = stagesFor(policy, request.facts.mode);
    let noCandidates = false;
    // The deadline the last step's own store step set (makeOffers moves it to the offers' expiry),
    // at the revision that step wrote: a wait for exactly that needs no write of its own.
    let deadlineSet: { rev: number; at: number } | null = null;
    for (let steps = 0; steps < MAX_STEPS_PER_PASS; steps++) {
      const now = this.clock.now();
      const step = nextStep(request, { stages, policy, now, noCandidates });
      switch (step.kind) {
        case "done":
          await this.store.clearDeadline(requestId);
          return request;
        case "wait":
          if (deadlineSet && deadlineSet.rev === request.rev && deadlineSet.at === step.until) return request;
          // Only over what this pass last read: a pass woken meanwhile may have decided since.
          await this.store.setDeadlineIf(requestId, step.until, request.rev);
          return request;
        case "expire-offers":
        case "withdraw-offers": {
          const outcome = step.kind === "expire-offers" ? "timed_out" : "withdrawn";
          for (const offer of step.offers) await this.resolve(request, offer.id, outcome, now, { stages });
          break;
        }
        case "advance": {
          const toQueue = step.toStageIndex >= stages.length;
          const context: AdvanceContext = { kind: "advance", eventIds: [newId("auditEvent", now)], at: now, stages: stages.map((s) => s.pool) };
          const moved = await this.store.advanceStage(
            requestId,
            { fromStageIndex: request.stageIndex, toStageIndex: step.toStageIndex, now, queueScore: toQueue ? queueScore(request.facts, policy) : null },
            context,
          );
          if (moved.ok) {
            noCandidates = false;
            await this.settle({ context, request: moved.request }, moved.journalId);
            // The step answered with the state it wrote: the next step is decided on that, not a re-read.
            request = moved.request;
            deadlineSet = null;
            continue;
          }
          break;
        }
        case "offer": {
          const context: Omit<OfferContext, "excluded"> = {
            kind: "offer",
            // request.decided, then one offer.sent per offer.
            eventIds: Array.from({ length: 1 + (step.offerKind === "push" ? 1 : step.count) }, () => newId("auditEvent", now)),
            at: now,
            stages: stages.map((stage) => stage.pool),
            pool: step.pool,
          };
          const attempt = await makeOffers(this.store, request, step, policy, now, this.presenceTtlMs, context);
          if (attempt.made) {
            const { result } = attempt;
            await this.settle({ context: { ...context, excluded: result.excluded }, request: result.request, offers: result.offers }, result.journalId);
            request = result.request;
            deadlineSet = { rev: result.request.rev, at: step.expiresAt };
            continue;
          } else if (!attempt.stale) {
            noCandidates = true;
          }
          break;
        }
        case "expire-request": {
          const finished = await this.finish(request, "expired");
          if (!finished.ok) this.onError(new Error(`could not expire ${requestId}: ${finished.reason}`), "progress");
          return undefined;
        }
      }
      const reread = await this.store.getRequest(requestId);
      if (!reread) return null;
      request = reread;
      deadlineSet = null;
    }
    // A pass that did not settle comes back soon rather than spinning here.
    await this.store.setDeadlineIf(requestId, this.clock.now() + 1_000, request.rev);
    return request;
  }

  // ---- shared steps --------------------------------------------------------------------------------

  /**
   * Ends a request in one atomic store step (MatchingStore.endRequest: the end, the freed slots and,
   * on a journaling store, the journal entry), then waits for the record, announces the events and
   * offers waiting requests to the advisors it freed. `assignee`: only if assigned to them.
   */
  private async finish(request: LiveRequest, to: "completed" | "cancelled" | "expired", assignee?: string): Promise<FinishOutcome> {
    const now = this.clock.now();
    const stages = await this.stagesOf(request);
    const open = request.offers.filter((o) => o.outcome === null).length;
    const context: EndContext = {
      kind: "end",
      // One per withdrawn offer the engine can see, plus the ending event.
      eventIds: Array.from({ length: open + 1 }, () => newId("auditEvent", now)),
      at: now,
      stages: stages.map((stage) => stage.pool),
    };
    const ended = await this.store.endRequest(
      { requestId: request.facts.id, to, now, callbackRequested: to === "expired", ...(assignee !== undefined ? { assignee } : {}) },
      context,
    );
    if (!ended.ok) return { ok: false, reason: ended.reason };
    if (ended.duplicate) return { ok: true, duplicate: true };
    await this.settle({ context, request: ended.request, withdrawn: ended.withdrawn }, ended.journalId);
    for (const advisor of ended.freed) await this.serveQueue(advisor);
    return { ok: true, duplicate: false };
  }

  /**
   * Closes one open offer in one atomic store step (MatchingStore.resolveOffer: the offer, its push
   * hold, the answer, the deadline when given and, on a journaling store, the journal entry), then
   * waits for the record and announces the event.
   */
  private async resolve(
    request: LiveRequest,
    offerId: string,
    outcome: "declined" | "timed_out" | "withdrawn",
    now: number,
    options: { advisorId?: string; deadline?: number; reason?: string; stages?: StagePlan[] } = {},
  ): Promise<ResolveResult> {
    const stages = options.stages ?? (await this.stagesOf(request));
    const context: CloseContext = {
      kind: "close",
      eventIds: [newId("auditEvent", now)],
      at: now,
      stages: stages.map((stage) => stage.pool),
      ...(options.reason ? { reason: options.reason } : {}),
    };
    const closed = await this.store.resolveOffer(
      {
        requestId: request.facts.id,
        offerId,
        outcome,
        now,
        ...(options.advisorId !== undefined ? { advisorId: options.advisorId } : {}),
        ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
      },
      context,
    );
    if (!closed.ok) return closed;
    await this.settle({ context, request: closed.request, offer: closed.offer }, closed.journalId);
    return closed;
  }

  /**
   * An advisor has free capacity: wake the oldest queued requests they could take (up to their free
   * slots) so the funnel offers them now instead of at their next deadline.
   */
  private async serveQueue(advisor: AdvisorState): Promise<void> {
    let free = advisor.profile.maxConcurrent - advisor.supply.active - advisor.supply.pendingPush;
    if (free <= 0 || advisor.supply.presence !== "available") return;
    const now = this.clock.now();
    const queued = await this.store.listQueue(200);
    let woke = 0;
    for (const requestId of queued) {
      if (free <= 0) break;
      const request = await this.store.getRequest(requestId);
      if (!request || request.offers.some((o) => o.outcome === null)) continue;
      const verdict = checkEligibility({
        advisor: advisor.profile,
        supply: advisor.supply,
        request: request.facts,
        now,
        presenceTtlMs: this.presenceTtlMs,
        capacityRule: "push",
        excluded: request.excluded.includes(advisor.profile.id),
      });
      if (!verdict.eligible) continue;
      await this.store.setDeadline(requestId, now);
      free--;
      woke++;
    }
    if (woke) await this.tick();
  }

  /**
   * Demand for a licence kind in a branch right now: the waiting requests, and whether they exceed
   * the branch policy's surge threshold. The one surge rule, for accepts and for surge alerts.
   */
  async demandFor(branchId: string, requiredLicence: LicenceKind): Promise<{ requiredLicence: LicenceKind; queueDepth: number; surge: boolean }> {
    // Every accept asks before its step (the events' context goes into the step), so a grab's K
    // simultaneous accepts would each count: callers arriving while a count is running share it.
    const key = `${branchId}\u0000${requiredLicence}`;
    let counting = this.demandCounts.get(key);
    if (!counting) {
      counting = Promise.all([this.records.waitingCount(branchId, requiredLicence), this.policies.get(branchId)]).finally(() => this.demandCounts.delete(key));
      this.demandCounts.set(key, counting);
    }
    const [queueDepth, policy] = await counting;
    return { requiredLicence, queueDepth, surge: queueDepth > policy.surgeThreshold };
  }

  /** Demand counts running now, by branch and licence kind (see demandFor). */
  private readonly demandCounts = new Map<string, Promise<[number, DispatchPolicy]>>();

  /** The request an offer belongs to: named in the offer's id, or (older offers) looked up in the record. */
  private async requestOfOffer(offerId: string): Promise<string | null> {
    return requestIdOfOffer(offerId) ?? (await this.records.offerRequestId(offerId));
  }

  private async stagesOf(request: LiveRequest): Promise<StagePlan[]> {
    return stagesFor(await this.policies.get(request.facts.branchId), request.facts.mode);
  }

  /**
   * After a decision's store step: its journal entry (materialized from the draft) reaches the
   * record (the engine waits, bounded, when the step journaled it; records it itself when the store
   * does not journal), then its events are announced.
   */
  private async settle(draft: Draft, journalId: string | null): Promise<void> {
    const entry = materialize(draft);
    failpoint("engine.after-decision");
    await this.recorder.settle(entry, journalId);
    await this.publish(entry.events);
  }

  private stamp(event: NewEvent): DomainEvent {
    return { ...event, id: newId("auditEvent"), at: this.clock.now() } as DomainEvent;
  }

  private async publish(events: DomainEvent[]): Promise<void> {
    for (const event of events) await this.bus.publish(event);
  }

  // ---- rebuild -----------------------------------------------------------------------------------

  /**
   * Replaces the live store's contents with what PostgreSQL records: advisors (presence offline
   * until re-applied or their next heartbeat), open requests with their offers, assignments and
   * push holds. Every live request gets a deadline of now, so the funnel re-evaluates each at once.
   * Writes regardless of the fence: run it only while the generation is missing (ensureLiveState).
   */
  async rebuild(options: { reset: boolean } = { reset: true }): Promise<{ advisors: number; requests: number }> {
    const now = this.clock.now();
    const snapshot = await this.records.rebuildSnapshot(now);
    if (options.reset) await this.store.reset();
    for (const advisor of snapshot.advisors) await this.store.restoreAdvisor(advisor);
    for (const request of snapshot.requests) {
      const policy: DispatchPolicy = await this.policies.get(request.facts.branchId);
      const stages = stagesFor(policy, request.facts.mode);
      const live = request.status === "pending" || request.status === "offered";
      const queued = live && request.stageIndex >= stages.length;
      await this.store.restoreRequest({ ...request, queueScore: queued ? queueScore(request.facts, policy) : null }, live ? now : null);
    }
    return { advisors: snapshot.advisors.length, requests: snapshot.requests.length };
  }

  /**
   * Rebuilds the live state when it is missing (a new store, or Redis lost its data), once across
   * all processes: the first to take the rebuild lease does it, the others carry on. Returns what
   * was rebuilt, or null when nothing was needed or another process is on it.
   *
   * Order: lease; the generation checked again (another process may have just finished);
   * beforeRebuild (the journal persisted, so PostgreSQL holds every surviving decision); the
   * snapshot read and restored; the new generation, which opens the fence; then the presences this
   * process remembers are re-applied. While the generation is missing every decision is fenced, so
   * nothing is decided between the snapshot read and the new generation, and the restore overwrites
   * nothing newer than the snapshot.
   *
   * Called periodically (every second in a server), it also notices a rebuild another process did
   * (the generation changed) and re-applies this process's remembered presences then.
   */
  async ensureLiveState(): Promise<{ advisors: number; requests: number } | null> {
    const generation = await this.store.getGeneration();
    if (generation !== null) {
      await this.noticeGeneration(generation);
      return null;
    }
    this.knownGeneration = null;
    const token = newId("auditEvent", this.clock.now());
    if (!(await this.store.acquireLease("rebuild", token, REBUILD_LEASE_MS))) return null;
    try {
      const current = await this.store.getGeneration();
      if (current !== null) {
        await this.noticeGeneration(current);
        return null;
      }
      await this.beforeRebuild();
      // No reset: the store is empty or holds only hints written since the loss (entity writes are
      // fenced), so restoring over it is safe and keeps the lease key.
      const rebuilt = await this.rebuild({ reset: false });
      const next = `${this.clock.now()}:${token}`;
      await this.store.setGeneration(next);
      await this.noticeGeneration(next);
      return rebuilt;
    } finally {
      await this.store.releaseLease("rebuild", token);
    }
  }

  /** A generation seen: when it is not the one this process last acted on, re-apply presences. */
  private async noticeGeneration(generation: string): Promise<void> {
    if (generation === this.knownGeneration) return;
    // The first look (process start) has nothing to re-apply: nothing was reported before it.
    if (this.knownGeneration !== undefined) await this.replayPresence();
    this.knownGeneration = generation;
  }

  /** Remembers an advisor's report, kept in report order, and drops reports older than the presence TTL. */
  private remember(advisorId: string, presence: Presence, at: number): void {
    this.reported.delete(advisorId);
    this.reported.set(advisorId, { presence, at });
    const since = at - this.presenceTtlMs;
    for (const [id, report] of this.reported) {
      if (report.at > since) break;
      this.reported.delete(id);
    }
  }

  /**
   * Re-applies, through the fenced store operation, every presence reported to this process within
   * the presence TTL, each with the time it was reported (so it lapses when it would have) and only
   * where the store holds nothing newer; then wakes the queue for the advisors now available.
   * Returns how many were re-applied.
   */
  async replayPresence(): Promise<number> {
    const since = this.clock.now() - this.presenceTtlMs;
    const reports = [...this.reported].filter(([, report]) => report.at > since && report.presence !== "offline");
    let applied = 0;
    let available = false;
    for (let start = 0; start < reports.length; start += REPLAY_BATCH) {
      const results = await Promise.all(
        reports
          .slice(start, start + REPLAY_BATCH)
          .map(([advisorId, { presence, at }]) => this.store.setPresence(advisorId, presence, at, { onlyIfNewer: true })),
      );
      results.forEach((result, i) => {
        const [, report] = reports[start + i]!;
        if (!result.ok || result.advisor.supply.heartbeatAt !== report.at) return;
        applied++;
        if (report.presence === "available") available = true;
      });
    }
    if (available) await this.wakeQueue();
    return applied;
  }

  /**
   * Makes every queued request due now: a request that ran its funnel before presences came back
   * found nobody and waits in the queue; now it may find someone.
   */
  private async wakeQueue(): Promise<void> {
    const now = this.clock.now();
    const queued = await this.store.listQueue(1_000);
    await Promise.all(queued.map((id) => this.store.setDeadline(id, now)));
    if (queued.length) await this.tick();
  }

  /**
   * After a PRESENCE refusal: re-applies the advisor's presence as reported to this process, when
   * it is within the TTL and newer than the store's (the store lost it). True when it did.
   */
  private async reapplyPresence(advisorId: string): Promise<boolean> {
    const report = this.reported.get(advisorId);
    if (!report || report.presence === "offline" || report.at <= this.clock.now() - this.presenceTtlMs) return false;
    const result = await this.store.setPresence(advisorId, report.presence, report.at, { onlyIfNewer: true });
    return result.ok && result.advisor.supply.heartbeatAt === report.at;
  }

  /**
   * True when the advisor has not been heard from since the live state was rebuilt (heartbeatAt 0
   * is "restored, no heartbeat since"), and that rebuild is younger than the presence TTL: their
   * presence is not known yet (their processes re-apply it within seconds, their next heartbeat at
   * the latest), so "offline" is not an answer to give them.
   */
  private async presenceUnknownSinceRebuild(advisorId: string): Promise<boolean> {
    const [advisor, generation] = await Promise.all([this.store.getAdvisor(advisorId), this.store.getGeneration()]);
    if (advisor?.supply.heartbeatAt !== 0) return false;
    const age = this.clock.now() - rebuiltAtOf(generation);
    return age >= 0 && age < this.presenceTtlMs;
  }

  /** Throws LiveStateUnavailableError while the live state is missing (the fence is closed). */
  private async assertLive(operation: string): Promise<void> {
    if (!(await this.store.isLive())) throw new LiveStateUnavailableError(operation);
  }

  /** "Not found" in the live store, unless it lost its state: then the caller must retry instead. */
  private async notFound(operation: string): Promise<{ ok: false; reason: "NOT_FOUND" }> {
    await this.assertLive(operation);
    return { ok: false, reason: "NOT_FOUND" };
  }

  /** Totals of every reconcile run on this process, for /metrics. */
  readonly reconciled: ReconcileReport = { checked: 0, behind: 0, repaired: 0, missing: 0, restored: 0, rescheduled: 0 };

  /** Repairs records that trail the live store (see reconciler.ts); the job leader runs it. */
  async reconcile(options: { graceMs?: number; shouldContinue?: () => boolean; pageSize?: number } = {}): Promise<ReconcileReport> {
    const report = await reconcile({
      store: this.store,
      records: this.records,
      recorder: this.recorder,
      now: () => this.clock.now(),
      stageOf: (r) => this.stageOf(r),
      restore: (request) => this.restoreFromRecord(request),
      ...options,
    });
    for (const key of Object.keys(report) as Array<keyof ReconcileReport>) this.reconciled[key] += report[key];
    return report;
  }

  /** Puts a live request the record has into the live store, due now, queued if its funnel says so. */
  private async restoreFromRecord(request: LiveRequest): Promise<void> {
    // Never over live state: not while it is missing (a rebuild will restore the request), and not
    // once the request is there (a decision got to it first).
    if (!(await this.store.isLive()) || (await this.store.getRequest(request.facts.id))) return;
    const policy = await this.policies.get(request.facts.branchId);
    const queued = request.stageIndex >= stagesFor(policy, request.facts.mode).length;
    await this.store.restoreRequest({ ...request, queueScore: queued ? queueScore(request.facts, policy) : null }, this.clock.now());
  }

  /** Capacity slots the supply sweeps suspect, by key, with when first seen (see reconcileSupply). */
  private readonly supplySuspects = new Map<string, number>();
  /** Totals of every supply sweep on this process, for /metrics. */
  readonly supplyReconciled: SupplyReport = { advisors: 0, suspect: 0, released: 0 };

  /** Releases capacity slots held for nothing by an interrupted saga (see reconciler.ts); the job leader runs it. */
  async reconcileSupply(options: { graceMs?: number; shouldContinue?: () => boolean } = {}): Promise<SupplyReport> {
    const advisorIds = await this.records.advisorIds();
    const report = await reconcileSupply({ store: this.store, now: () => this.clock.now(), advisorIds, suspects: this.supplySuspects, ...options });
    this.supplyReconciled.suspect += report.suspect;
    this.supplyReconciled.released += report.released;
    this.supplyReconciled.advisors = report.advisors;
    return report;
  }

  /** When the request will expire with a callback if nobody takes it. */
  async maxWaitAt(request: LiveRequest): Promise<number> {
    return maxWaitDeadline(request.facts, await this.policies.get(request.facts.branchId));
  }

  /** Pool names of the request's funnel, for display. */
  async stageOf(request: LiveRequest): Promise<Pool | "queue"> {
    return stageName(await this.stagesOf(request), request.stageIndex);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before it gets its id and time. */
type NewEvent = DistributiveOmit<DomainEvent, "id" | "at">;

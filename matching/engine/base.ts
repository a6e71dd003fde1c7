/**
 * The engine's base: its dependencies and the steps every use case shares (finishing a request,
 * resolving an offer, serving the queue, demand counts, settling a decision: recording it and
 * announcing its events). The use cases build on it: funnel.ts (the funnel passes), actions.ts
 * (client and advisor actions), engine.ts (rebuild and reconciliation).
 */
import type { Clock } from "../../core/clock.ts";
import { failpoint } from "../../core/failpoints.ts";
import { newId, requestIdOfOffer } from "../../core/ids.ts";
import type { DomainEvent, EventBus } from "../events.ts";
import { queueReach, stagesFor, withinPool, type StagePlan } from "../domain/funnel.ts";
import { checkEligibility } from "../domain/eligibility.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import type { LicenceKind, Presence } from "../domain/types.ts";
import { materialize, type CloseContext, type Draft, type EndContext } from "../journal/draft.ts";
import { directRecorder, type Recorder } from "../journal/recorder.ts";
import type { MatchingRecords } from "../records/port.ts";
import { NO_PRESENCE_HISTORY, type PresenceHistory } from "../presenceHistory.ts";
import { LiveStateUnavailableError, type AdvisorState, type LiveRequest, type MatchingStore, type ResolveResult } from "../store/port.ts";
import { PolicyCache } from "./policies.ts";
import type { EngineOptions, FinishOutcome } from "./types.ts";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A domain event before the engine gives it its id and time. */
export type NewEvent = DistributiveOmit<DomainEvent, "id" | "at">;

/** How many steps one progress pass may take before it yields (a guard against a bad policy loop). */
export const MAX_STEPS_PER_PASS = 32;
/** Presences re-applied at once after a rebuild. */
export const REPLAY_BATCH = 50;
/** How long the rebuild lease lasts: a rebuilder that dies is taken over after this. */
export const REBUILD_LEASE_MS = 60_000;

/** When the live state of a generation (as ensureLiveState writes it, `<ms>:<token>`) was rebuilt; NaN for another shape. */
export const rebuiltAtOf = (generation: string | null): number => Number(generation?.slice(0, generation.indexOf(":")) ?? Number.NaN);

export abstract class EngineBase {
  readonly store: MatchingStore;
  protected readonly records: MatchingRecords;
  protected readonly recorder: Recorder;
  protected readonly bus: EventBus;
  protected readonly clock: Clock;
  protected readonly policies: PolicyCache;
  protected readonly presenceTtlMs: number;
  protected readonly leaseMs: number;
  protected readonly onError: (error: unknown, context: string) => void;
  protected readonly beforeRebuild: () => Promise<void>;
  protected readonly presenceHistory: PresenceHistory;
  /**
   * The latest presence each advisor reported to this process, and when, in report order (oldest
   * first), kept for the presence TTL: re-applied after a rebuild.
   */
  protected readonly reported = new Map<string, { presence: Presence; at: number }>();
  /** The generation this process last acted on; undefined until it first looked. */
  protected knownGeneration: string | null | undefined = undefined;

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
    this.presenceHistory = options.presenceHistory ?? NO_PRESENCE_HISTORY;
  }

  /**
   * Reports a presence transition the store just applied to the history (reporting only): a failed
   * write is reported to onError and the change stands, as the store decided it.
   */
  protected notePresence(advisor: AdvisorState, presence: Presence, at: number): void {
    // Not awaited: the history is for reporting, and an advisor's presence answer (or the queue it
    // wakes) must not wait on PostgreSQL. A failed write is logged; the row is then missing (see
    // matching/presenceHistory.ts for what that does to utilisation).
    this.presenceHistory
      .record({ advisorId: advisor.profile.id, branchId: advisor.profile.branchId, presence, at })
      .catch((error) => this.onError(error, "presence history"));
  }

  // ---- shared steps --------------------------------------------------------------------------------

  /**
   * Ends a request in one atomic store step (MatchingStore.endRequest: the end, the freed slots and,
   * on a journaling store, the journal entry), then waits for the record, announces the events and
   * offers waiting requests to the advisors it freed. `assignee`: only if assigned to them.
   */
  protected async finish(request: LiveRequest, to: "completed" | "cancelled" | "expired", assignee?: string): Promise<FinishOutcome> {
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
  protected async resolve(
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
  protected async serveQueue(advisor: AdvisorState): Promise<void> {
    let free = advisor.profile.maxConcurrent - advisor.supply.active - advisor.supply.pendingPush;
    if (free <= 0 || advisor.supply.presence !== "available") return;
    const now = this.clock.now();
    const queued = await this.store.listQueue(200);
    let woke = 0;
    for (const requestId of queued) {
      if (free <= 0) break;
      const request = await this.store.getRequest(requestId);
      if (!request || request.offers.some((o) => o.outcome === null)) continue;
      // The queue reaches no further than the funnel did (queueReach): an advisor outside it is not woken for.
      if (!withinPool(queueReach(await this.stagesOf(request)), advisor.profile, request.facts)) continue;
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
  protected readonly demandCounts = new Map<string, Promise<[number, DispatchPolicy]>>();

  /** The request an offer belongs to: named in the offer's id, or (older offers) looked up in the record. */
  protected async requestOfOffer(offerId: string): Promise<string | null> {
    return requestIdOfOffer(offerId) ?? (await this.records.offerRequestId(offerId));
  }

  /**
   * A branch's policy was just saved: this process uses it from its next step on. Other processes
   * pick it up when their cached copy expires (policyTtlMs, 2 s by default).
   */
  policyChanged(branchId: string): void {
    this.policies.invalidate(branchId);
  }

  protected async stagesOf(request: LiveRequest): Promise<StagePlan[]> {
    return stagesFor(await this.policies.get(request.facts.branchId), request.facts.mode);
  }

  /**
   * After a decision's store step: its journal entry (materialized from the draft) reaches the
   * record (the engine waits, bounded, when the step journaled it; records it itself when the store
   * does not journal), then its events are announced.
   */
  protected async settle(draft: Draft, journalId: string | null): Promise<void> {
    const entry = materialize(draft);
    failpoint("engine.after-decision");
    await this.recorder.settle(entry, journalId);
    await this.publish(entry.events);
  }

  protected stamp(event: NewEvent): DomainEvent {
    return { ...event, id: newId("auditEvent"), at: this.clock.now() } as DomainEvent;
  }

  protected async publish(events: DomainEvent[]): Promise<void> {
    for (const event of events) await this.bus.publish(event);
  }

  /**
   * The live request an action works on; null when the live store has none (the caller's "not
   * found"). Throws LiveStateUnavailableError when the read found nothing because the state was
   * lost: whether the state was live is read with the request, in one step, so a rebuild finishing
   * before this answers cannot turn "retry" into "not found" for a request it restored.
   */
  protected async liveRequest(requestId: string, operation: string): Promise<LiveRequest | null> {
    const { request, live } = await this.store.lookupRequest(requestId);
    if (!request && !live) throw new LiveStateUnavailableError(operation);
    return request;
  }

  // ---- presence this process was told (re-applied after a rebuild) ----

  /** Remembers an advisor's report, kept in report order, and drops reports older than the presence TTL. */
  protected remember(advisorId: string, presence: Presence, at: number): void {
    this.reported.delete(advisorId);
    this.reported.set(advisorId, { presence, at });
    const since = at - this.presenceTtlMs;
    for (const [id, report] of this.reported) {
      if (report.at > since) break;
      this.reported.delete(id);
    }
  }

  /**
   * After a PRESENCE refusal: re-applies the advisor's presence as reported to this process, when
   * it is within the TTL and newer than the store's (the store lost it). True when it did.
   */
  protected async reapplyPresence(advisorId: string): Promise<boolean> {
    const report = this.reported.get(advisorId);
    if (!report || report.presence === "offline" || report.at <= this.clock.now() - this.presenceTtlMs) return false;
    const result = await this.store.setPresence(advisorId, report.presence, report.at, { onlyIfNewer: true });
    const applied = result.ok && result.advisor.supply.heartbeatAt === report.at;
    if (applied && result.previous !== report.presence) this.notePresence(result.advisor, report.presence, report.at);
    return applied;
  }

  /**
   * True when the live state was rebuilt less than a presence TTL ago. An advisor restored by it and
   * not heard from since (acceptOffer's PRESENCE refusal says so) then has a presence not known yet:
   * their processes re-apply it within seconds, their next heartbeat at the latest, so "offline" is
   * not an answer to give them. Past the TTL, unheard from means offline.
   */
  protected async rebuiltWithinPresenceTtl(): Promise<boolean> {
    const age = this.clock.now() - rebuiltAtOf(await this.store.getGeneration());
    return age >= 0 && age < this.presenceTtlMs;
  }

  /** The deadline sweep (funnel.ts): shared steps make a request due and run it at once. */
  abstract tick(limit?: number): Promise<number>;
}

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
import { newId } from "../../core/ids.ts";
import { maxWaitDeadline, queueScore, stageName, stagesFor } from "../domain/funnel.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import type { Pool } from "../domain/types.ts";
import type { LiveRequest } from "../store/port.ts";
import { reconcile, reconcileSupply, type ReconcileReport, type SupplyReport } from "./reconciler.ts";
import { ActionEngine } from "./actions.ts";
import { REBUILD_LEASE_MS, REPLAY_BATCH } from "./base.ts";

export type { AcceptOutcome, CreateOutcome, DeclineOutcome, EngineOptions, FinishOutcome, NewRequest, RateOutcome } from "./types.ts";

/**
 * The engine: the use cases (actions.ts, funnel.ts) on the shared base (base.ts), and here the
 * rebuild of a lost live state and the reconciliation of the live store with the records.
 */
export class MatchingEngine extends ActionEngine {
  // ---- rebuild -----------------------------------------------------------------------------------

  /**
   * Replaces the live store's contents with what PostgreSQL records: advisors (presence offline
   * until re-applied or their next heartbeat), open requests with their offers, assignments and
   * push holds. Every live request gets a deadline of now, so the funnel re-evaluates each at once.
   * Writes regardless of the fence: run it only while the generation is missing (ensureLiveState).
   */
  async rebuild(options: { reset: boolean; keepLeases?: boolean } = { reset: true }): Promise<{ advisors: number; requests: number }> {
    const now = this.clock.now();
    const snapshot = await this.records.rebuildSnapshot(now);
    if (options.reset) await this.store.reset({ keepLeases: options.keepLeases === true });
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
      // No reset: the store is empty or holds only hints written since the loss (entity writes are
      // fenced), so restoring over it is safe and keeps the lease key.
      return await this.rebuildAndOpen(token, { reset: false });
    } finally {
      await this.store.releaseLease("rebuild", token);
    }
  }

  /**
   * After a Redis failover. Replication is asynchronous, so the promoted replica may lack the last
   * writes the old master acknowledged: its live state can trail PostgreSQL (a decision persisted
   * from the old master, missing on the new one) and trail itself (a request's offer kept, its
   * acceptance lost). Nothing there says which, so the live state is replaced, as after a loss:
   * under the rebuild lease, the fence is closed (the generation retired, if still the one this
   * process knew before the switch), the surviving journal persisted, the store emptied (leases
   * and journal kept) and rebuilt from PostgreSQL, and a new generation opens the fence. Decisions
   * meanwhile answer 503. Once per failover across processes: a process that comes second finds the
   * generation already changed and only re-applies its presences. Returns what was rebuilt; null
   * when another process did it, or holds the lease now (call again: "pending"). `before` is the
   * generation this process knew when it saw the switch (knownLiveGeneration then), kept across calls.
   */
  async recoverAfterFailover(before: string | null | undefined): Promise<{ advisors: number; requests: number } | null | "pending"> {
    const token = newId("auditEvent", this.clock.now());
    if (!(await this.store.acquireLease("rebuild", token, REBUILD_LEASE_MS))) return "pending";
    try {
      const current = await this.store.getGeneration();
      // Changed since this process last looked: another process has already rebuilt after the switch.
      if (current !== null && current !== before) {
        await this.noticeGeneration(current);
        return null;
      }
      if (current !== null) await this.store.retireGeneration(current);
      this.knownGeneration = null;
      return await this.rebuildAndOpen(token, { reset: true, keepLeases: true });
    } finally {
      await this.store.releaseLease("rebuild", token);
    }
  }

  /**
   * Under the rebuild lease (`token`), with the fence closed: the journal persisted, the live state
   * rebuilt from PostgreSQL, then a new generation, which opens the fence.
   */
  private async rebuildAndOpen(token: string, options: { reset: boolean; keepLeases?: boolean }): Promise<{ advisors: number; requests: number }> {
    await this.beforeRebuild();
    const rebuilt = await this.rebuild(options);
    const next = `${this.clock.now()}:${token}`;
    await this.store.setGeneration(next);
    await this.noticeGeneration(next);
    return rebuilt;
  }

  /** The live state's generation this process last acted on (undefined before its first look). */
  get knownLiveGeneration(): string | null | undefined {
    return this.knownGeneration;
  }

  /** A generation seen: when it is not the one this process last acted on, re-apply presences. */
  protected async noticeGeneration(generation: string): Promise<void> {
    if (generation === this.knownGeneration) return;
    // The first look (process start) has nothing to re-apply: nothing was reported before it.
    if (this.knownGeneration !== undefined) await this.replayPresence();
    this.knownGeneration = generation;
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
        // A report made while the live state was missing was never recorded; one recorded before
        // the loss is recorded again, which changes no span of the history.
        if (result.previous !== report.presence) this.notePresence(result.advisor, report.presence, report.at);
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
  protected async wakeQueue(): Promise<void> {
    const now = this.clock.now();
    const queued = await this.store.listQueue(1_000);
    await Promise.all(queued.map((id) => this.store.setDeadline(id, now)));
    if (queued.length) await this.tick();
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
  protected async restoreFromRecord(request: LiveRequest): Promise<void> {
    // Never over live state: not while it is missing (a rebuild will restore the request), and not
    // once the request is there (a decision got to it first). Both read in one step.
    const present = await this.store.lookupRequest(request.facts.id);
    if (!present.live || present.request) return;
    const policy = await this.policies.get(request.facts.branchId);
    const queued = request.stageIndex >= stagesFor(policy, request.facts.mode).length;
    await this.store.restoreRequest({ ...request, queueScore: queued ? queueScore(request.facts, policy) : null }, this.clock.now());
  }

  /** Capacity slots the supply sweeps suspect, by key, with when first seen (see reconcileSupply). */
  protected readonly supplySuspects = new Map<string, number>();
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

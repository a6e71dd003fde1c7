/** The funnel passes: the deadline sweep's tick, and one pass of a request through its branch's funnel. */
import { newId } from "../../core/ids.ts";
import { nextStep, queueScore, type StagePlan, type Step, stagesFor } from "../domain/funnel.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import type { AdvanceContext, OfferContext } from "../journal/draft.ts";
import { isLiveStateUnavailable, type LiveRequest } from "../store/port.ts";
import { makeOffers } from "./offering.ts";
import { EngineBase, MAX_STEPS_PER_PASS } from "./base.ts";

export abstract class FunnelEngine extends EngineBase {
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
  protected async passUnderLease(requestId: string, known?: LiveRequest): Promise<LiveRequest | null | undefined> {
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
  protected async progress(requestId: string, known?: LiveRequest): Promise<LiveRequest | null | undefined> {
    // Read with whether the state was live: a request missing from a lost state is restored by the
    // rebuild with its deadline, which must not be cleared, even when the rebuild ends before this.
    let request = known ?? (await this.liveRequest(requestId, "progress"));
    if (!request) {
      // Gone for good: its deadline goes too.
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
          const moved = await this.advance(request, step, policy, stages, now);
          if (!moved) break;
          // The step answered with the state it wrote: the next step is decided on that, not a re-read.
          noCandidates = false;
          request = moved;
          deadlineSet = null;
          continue;
        }
        case "offer": {
          const offered = await this.offer(request, step, policy, stages, now);
          if (offered.made) {
            request = offered.made;
            deadlineSet = { rev: offered.made.rev, at: step.expiresAt };
            continue;
          }
          if (!offered.stale) noCandidates = true;
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

  /** Moves the request to the step's stage (or the queue) in one store step; the state it wrote, or null when it moved meanwhile. */
  protected async advance(
    request: LiveRequest,
    step: Extract<Step, { kind: "advance" }>,
    policy: DispatchPolicy,
    stages: StagePlan[],
    now: number,
  ): Promise<LiveRequest | null> {
    const toQueue = step.toStageIndex >= stages.length;
    const context: AdvanceContext = { kind: "advance", eventIds: [newId("auditEvent", now)], at: now, stages: stages.map((s) => s.pool) };
    const moved = await this.store.advanceStage(
      request.facts.id,
      { fromStageIndex: request.stageIndex, toStageIndex: step.toStageIndex, now, queueScore: toQueue ? queueScore(request.facts, policy) : null },
      context,
    );
    if (!moved.ok) return null;
    await this.settle({ context, request: moved.request }, moved.journalId);
    return moved.request;
  }

  /**
   * One offer round (offering.ts), recorded and announced: the state it wrote when it made offers;
   * otherwise whether the request moved meanwhile (stale) or nobody was eligible.
   */
  protected async offer(
    request: LiveRequest,
    step: Extract<Step, { kind: "offer" }>,
    policy: DispatchPolicy,
    stages: StagePlan[],
    now: number,
  ): Promise<{ made: LiveRequest } | { made: null; stale: boolean }> {
    const context: Omit<OfferContext, "excluded"> = {
      kind: "offer",
      // request.decided, then one offer.sent per offer.
      eventIds: Array.from({ length: 1 + (step.offerKind === "push" ? 1 : step.count) }, () => newId("auditEvent", now)),
      at: now,
      stages: stages.map((stage) => stage.pool),
      pool: step.pool,
      reach: step.reach,
    };
    const attempt = await makeOffers(this.store, request, step, policy, now, this.presenceTtlMs, context);
    if (!attempt.made) return { made: null, stale: attempt.stale };
    const { result } = attempt;
    await this.settle({ context: { ...context, excluded: result.excluded }, request: result.request, offers: result.offers }, result.journalId);
    return { made: result.request };
  }
}

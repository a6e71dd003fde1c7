/**
 * The service funnel as a pure state machine: given a live request, its branch's stages and the
 * time, what is the one next step? The engine executes steps until the answer is "wait".
 */
import { FUNNEL_POOLS, type DispatchPolicy, type FunnelStage } from "./policy.ts";
import type { AdvisorProfile, OfferKind, Pool, RequestFacts, RequestMode } from "./types.ts";
import type { LiveRequest, OfferState } from "../store/port.ts";

export interface StagePlan {
  pool: Pool;
  mode: "dispatch" | "grab";
  timeoutMs: number;
  maxOffers: number;
}

/**
 * The stages a request runs through. auto follows the branch's funnel as configured; dispatch and
 * grab force every stage's mode, except the dedicated stage, which always offers to its one advisor.
 */
export function stagesFor(policy: DispatchPolicy, mode: RequestMode): StagePlan[] {
  return policy.stages.map((stage: FunnelStage) => ({
    pool: stage.pool,
    mode: mode === "auto" || stage.pool === "dedicated" ? stage.mode : mode,
    timeoutMs: stage.timeoutSeconds * 1000,
    maxOffers: stage.maxOffers,
  }));
}

/** The pool a stage index names, or "queue" past the last stage. */
export function stageName(stages: StagePlan[], stageIndex: number): Pool | "queue" {
  return stages[stageIndex]?.pool ?? "queue";
}

/**
 * How far a queued request reaches: the widest pool of its funnel, and at least the branch. A
 * branch-only funnel keeps its queue in the branch, so a manager who leaves out the region and
 * national stages never sees their clients served from elsewhere; the shipped funnel ends
 * nationally, so its queue is national. A funnel of the dedicated stage alone still queues at the
 * branch: clients without a dedicated advisor (or whose advisor is away) are not left with nobody.
 */
export function queueReach(stages: StagePlan[]): Pool {
  let widest = FUNNEL_POOLS.indexOf("branch");
  for (const stage of stages) widest = Math.max(widest, FUNNEL_POOLS.indexOf(stage.pool));
  return FUNNEL_POOLS[widest]!;
}

/** Whether an advisor is inside a pool for a request: the pool's branch, region or the whole firm. */
export function withinPool(pool: Pool, advisor: Pick<AdvisorProfile, "id" | "branchId" | "region">, facts: RequestFacts): boolean {
  switch (pool) {
    case "dedicated":
      return facts.dedicatedAdvisorId === advisor.id;
    case "branch":
      return advisor.branchId === facts.branchId;
    case "region":
      return advisor.region === facts.region;
    case "national":
      return true;
  }
}

/**
 * Queue order: lower is served first. A request of priority p counts as if it had arrived p ageing
 * periods earlier, so higher priorities go first, yet any request eventually outranks every newer
 * one: nothing starves.
 */
export function queueScore(facts: RequestFacts, policy: DispatchPolicy): number {
  return facts.createdAt - facts.priority * policy.ageingSecondsPerPriority * 1000;
}

export function maxWaitDeadline(facts: RequestFacts, policy: DispatchPolicy): number {
  return facts.createdAt + policy.maxWaitSeconds * 1000;
}

export type Step =
  /** Assigned or terminal: nothing left for the funnel to do. */
  | { kind: "done" }
  /** Open offers whose time is up. */
  | { kind: "expire-offers"; offers: OfferState[] }
  /** The stage (or the whole wait) is over while offers are still open. */
  | { kind: "withdraw-offers"; offers: OfferState[] }
  | { kind: "advance"; toStageIndex: number }
  /** `reach`: the pool candidates come from (the stage's own; from the queue, queueReach). */
  | { kind: "offer"; pool: Pool | "queue"; reach: Pool; offerKind: OfferKind; count: number; expiresAt: number }
  | { kind: "expire-request" }
  | { kind: "wait"; until: number };

export interface StepContext {
  stages: StagePlan[];
  policy: DispatchPolicy;
  now: number;
  /** True when the previous offer step in this pass found nobody eligible. */
  noCandidates: boolean;
}

export function nextStep(request: LiveRequest, ctx: StepContext): Step {
  const { stages, policy, now } = ctx;
  if (request.status !== "pending" && request.status !== "offered") return { kind: "done" };

  const open = request.offers.filter((o) => o.outcome === null);
  const due = open.filter((o) => o.expiresAt <= now);
  if (due.length) return { kind: "expire-offers", offers: due };
  const nextOfferExpiry = open.length ? Math.min(...open.map((o) => o.expiresAt)) : Infinity;

  const stage = stages[request.stageIndex];
  if (stage) {
    const stageEnd = request.stageStartedAt + stage.timeoutMs;
    if (now >= stageEnd) return open.length ? { kind: "withdraw-offers", offers: open } : { kind: "advance", toStageIndex: request.stageIndex + 1 };
    if (open.length) return { kind: "wait", until: Math.min(nextOfferExpiry, stageEnd) };
    if (ctx.noCandidates) return { kind: "advance", toStageIndex: request.stageIndex + 1 };
    if (stage.mode === "dispatch") {
      if (request.offersInStage >= stage.maxOffers) return { kind: "advance", toStageIndex: request.stageIndex + 1 };
      return {
        kind: "offer",
        pool: stage.pool,
        reach: stage.pool,
        offerKind: "push",
        count: 1,
        expiresAt: Math.min(now + policy.offerTtlSeconds * 1000, stageEnd),
      };
    }
    // A grab stage broadcasts once; when every offer of the round is answered or expired it is over.
    if (request.offersInStage > 0) return { kind: "advance", toStageIndex: request.stageIndex + 1 };
    return {
      kind: "offer",
      pool: stage.pool,
      reach: stage.pool,
      offerKind: "broadcast",
      count: Math.min(stage.maxOffers, policy.grabTopK),
      expiresAt: Math.min(now + policy.grabWindowSeconds * 1000, stageEnd),
    };
  }

  // Past the last stage: wait in the queue, one push offer at a time, until the wait runs out.
  const waitEnd = maxWaitDeadline(request.facts, policy);
  if (now >= waitEnd) return open.length ? { kind: "withdraw-offers", offers: open } : { kind: "expire-request" };
  if (open.length) return { kind: "wait", until: Math.min(nextOfferExpiry, waitEnd) };
  if (ctx.noCandidates) return { kind: "wait", until: waitEnd };
  return {
    kind: "offer",
    pool: "queue",
    reach: queueReach(stages),
    offerKind: "push",
    count: 1,
    expiresAt: Math.min(now + policy.offerTtlSeconds * 1000, waitEnd),
  };
}

/**
 * The live-store calls MatchingEngine (matching/engine/engine.ts) makes at each step of a request,
 * in the same order, without what lies outside the matching core: PostgreSQL records, domain events
 * and the deadline sweeper's batching. The matchingCore suite builds its decisions and grabs from
 * these, so keep them in step with the engine's createRequest, progress, accept and complete.
 */
import type { DispatchPolicy } from "../../matching/domain/policy.ts";
import type { RequestFacts } from "../../matching/domain/types.ts";
import { makeOffers, type MadeOffers, type OfferPlan } from "../../matching/engine/offering.ts";
import type { AcceptContext } from "../../matching/journal/draft.ts";
import type { AdvisorState, LiveRequest, MatchingStore } from "../../matching/store/port.ts";

export interface StepContext {
  store: MatchingStore;
  policy: DispatchPolicy;
  presenceTtlMs: number;
  now(): number;
}

/** engine.createRequest: the live request, due at once so the funnel runs; the state the step answered with. */
export async function openRequest(ctx: StepContext, facts: RequestFacts, stageIndex: number): Promise<LiveRequest> {
  const now = ctx.now();
  return (await ctx.store.createRequest(facts, { stageIndex, now, deadline: now })).request;
}

/**
 * One offer step of engine.progress, on the request's first pass right after its creation (the
 * pass starts from the state createRequest answered with, so it reads nothing): select candidates
 * and hold the push slot or re-check each broadcast advisor (makeOffers, the engine's own code),
 * record the offers and move the deadline to their expiry in that one step. The pass then waits
 * on exactly that deadline, which needs no write of its own. null when nobody was eligible or the
 * request moved.
 */
export async function offerStep(ctx: StepContext, request: LiveRequest, plan: OfferPlan): Promise<MadeOffers | null> {
  const now = ctx.now();
  const context = {
    kind: "offer" as const,
    eventIds: ["evt_bench_decided", "evt_bench_sent"],
    at: now,
    stages: ctx.policy.stages.map((stage) => stage.pool),
    pool: plan.pool,
    reach: plan.reach,
  };
  const attempt = await makeOffers(ctx.store, request, plan, ctx.policy, now, ctx.presenceTtlMs, context);
  if (!attempt.made) return null;
  return attempt.result;
}

export type AcceptResult =
  | { won: true; advisor: AdvisorState }
  /** `advisor` is the state after a capacity slot was taken (and then given back), when one was. */
  | { won: false; reason: string; advisor?: AdvisorState };

/**
 * engine.accept's store work: read the request (the engine's early answers, and the events'
 * context), then the one atomic step (MatchingStore.acceptOffer: claim, capacity slot, superseded
 * holds, answer, deadline, and on a journaling store the journal entry).
 */
export async function acceptOffer(ctx: StepContext, requestId: string, offerId: string, advisorId: string): Promise<AcceptResult> {
  const now = ctx.now();
  const request = await ctx.store.getRequest(requestId);
  const offer = request?.offers.find((o) => o.id === offerId);
  if (!request || !offer) return { won: false, reason: "NOT_FOUND" };
  // The engine's cheap early answer from what it just read; the decisive checks are the atomic step.
  if (request.assignedAdvisorId !== null && request.assignedAdvisorId !== advisorId) return { won: false, reason: "ALREADY_TAKEN" };
  const context: AcceptContext = {
    kind: "accept",
    eventIds: request.offers
      .filter((o) => o.outcome === null)
      .map((o) => `evt_bench_${o.id}`)
      .concat(["evt_bench_a", "evt_bench_b"]),
    at: now,
    stages: ctx.policy.stages.map((stage) => stage.pool),
    demand: { requiredLicence: request.facts.requiredLicence, queueDepth: 0, surge: false },
  };
  const result = await ctx.store.acceptOffer(
    { requestId, language: request.facts.language, offerId, advisorId, now, presenceTtlMs: ctx.presenceTtlMs },
    context,
  );
  if (!result.ok) return { won: false, reason: result.reason };
  if (result.duplicate) return { won: false, reason: "DUPLICATE", advisor: result.advisor };
  return { won: true, advisor: result.advisor };
}

/**
 * engine.complete / engine.cancel (finish): read the request (the events' context), end it in one
 * atomic step (MatchingStore.endRequest: the end, the freed slots, the journal entry), then look at
 * the queue for each freed advisor (serveQueue; the benchmark never queues, so it is always empty).
 */
export async function finishRequest(ctx: StepContext, requestId: string, to: "completed" | "cancelled"): Promise<void> {
  const request = await ctx.store.getRequest(requestId);
  if (!request) return;
  const now = ctx.now();
  const context = { kind: "end" as const, eventIds: ["evt_bench_end"], at: now, stages: ctx.policy.stages.map((stage) => stage.pool) };
  const ended = await ctx.store.endRequest({ requestId, to, now, callbackRequested: false }, context);
  if (!ended.ok || ended.duplicate) return;
  for (const advisor of ended.freed) {
    const free = advisor.profile.maxConcurrent - advisor.supply.active - advisor.supply.pendingPush;
    if (free > 0 && advisor.supply.presence === "available") await ctx.store.listQueue(200);
  }
}

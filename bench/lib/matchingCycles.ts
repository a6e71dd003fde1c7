/**
 * The two units of work the matchingCore and redisWork suites count, each a request's whole life in the live
 * store, built from the engine's store steps (engineSteps.ts):
 *
 * - a decision (dispatch): create the request at the branch stage; select candidates, hold the
 *   best one's push slot and record the offer; the advisor accepts (take the capacity slot, claim
 *   the request); the request completes and the slot is freed.
 * - a grab: create the request at the region stage; select candidates and broadcast to the top K
 *   (re-checking each one's eligibility atomically); all K accept at once, the first claim wins and
 *   the others give their slots back; the request completes and the winner's slot is freed.
 *
 * A request nobody could take (no eligible candidate, or every grab attempt refused for capacity)
 * is cancelled and counted as such: the engine would move it on through the funnel.
 */
import type { RequestFacts } from "../../matching/domain/types.ts";
import { acceptOffer, finishRequest, offerStep, openRequest, type StepContext } from "./engineSteps.ts";
import type { MatchingInvariants } from "./matchingInvariants.ts";

/** Cycles run at once, ours and the BullMQ baseline's alike. */
export const CYCLES_IN_FLIGHT = 32;
/** The runs send no heartbeats: presence registered at the start must outlast them. */
export const CYCLES_PRESENCE_TTL_MS = 3_600_000;

export interface CycleContext extends StepContext {
  invariants: MatchingInvariants;
}

const stageOf = (ctx: StepContext, pool: string): number => {
  const index = ctx.policy.stages.findIndex((stage) => stage.pool === pool);
  if (index < 0) throw new Error(`the benchmark policy has no ${pool} stage`);
  return index;
};

/** One dispatched request, from creation to completion. True when it was assigned. */
export async function dispatchCycle(ctx: CycleContext, facts: RequestFacts): Promise<boolean> {
  ctx.invariants.request(facts.id);
  const request = await openRequest(ctx, facts, stageOf(ctx, "branch"));
  const expiresAt = ctx.now() + ctx.policy.offerTtlSeconds * 1000;
  const made = await offerStep(ctx, request, { pool: "branch", reach: "branch", offerKind: "push", count: 1, expiresAt });
  const offer = made?.offers[0]?.offer;
  if (offer) {
    const accepted = await acceptOffer(ctx, facts.id, offer.id, offer.advisorId);
    ctx.invariants.observe(accepted.advisor);
    if (accepted.won) {
      ctx.invariants.win(facts.id, offer.advisorId);
      await finishRequest(ctx, facts.id, "completed");
      return true;
    }
  }
  await finishRequest(ctx, facts.id, "cancelled");
  return false;
}

export interface GrabOutcome {
  won: boolean;
  /** K: how many advisors were offered the request and tried to accept it. */
  attempts: number;
}

/** One grabbed request: broadcast to the top K, K simultaneous accepts, at most one winner. */
export async function grabCycle(ctx: CycleContext, facts: RequestFacts): Promise<GrabOutcome> {
  ctx.invariants.request(facts.id);
  const request = await openRequest(ctx, facts, stageOf(ctx, "region"));
  const expiresAt = ctx.now() + ctx.policy.grabWindowSeconds * 1000;
  const made = await offerStep(ctx, request, { pool: "region", reach: "region", offerKind: "broadcast", count: ctx.policy.grabTopK, expiresAt });
  const offers = made?.offers.map((o) => o.offer) ?? [];
  const attempts = await Promise.all(offers.map((offer) => acceptOffer(ctx, facts.id, offer.id, offer.advisorId)));
  let won = false;
  attempts.forEach((attempt, i) => {
    ctx.invariants.observe(attempt.advisor);
    if (!attempt.won) return;
    ctx.invariants.win(facts.id, offers[i]!.advisorId);
    won = true;
  });
  await finishRequest(ctx, facts.id, won ? "completed" : "cancelled");
  return { won, attempts: offers.length };
}

/**
 * matchingCore: how many requests the matching core settles per second, on the Redis store and on
 * the memory store, next to what BullMQ manages for bare jobs on the same Redis at the same
 * concurrency (bench/lib/bullmqBaseline.ts). 10k advisors are registered, all available (quick
 * mode: 1k), and 32 requests are in flight at once for ours and for BullMQ.
 *
 * One decision is a dispatched request's whole life in the live store, exactly the store calls
 * MatchingEngine makes (bench/lib/engineSteps.ts), without PostgreSQL records or domain events:
 *   1. createRequest at the branch stage, due at once (one script);
 *   2. the offer step: getRequest; findCandidates in the branch + eligibility + ranking; makeOffers
 *      (one script: walks the ranking, holds the first eligible advisor's push slot, records the
 *      offer, moves the deadline to its expiry, appends the journal entry); getRequest; setDeadline;
 *   3. the accept: getRequest; acceptOffer (one script: the claim, the capacity slot converted from
 *      the hold, the answer, the deadline and queue left, the journal entry);
 *   4. the completion: getRequest; endRequest (one script: the end, the slot freed, the journal
 *      entry), then listQueue when the freed advisor has room (serveQueue).
 * One grab is the same with a broadcast instead of a push: created at the region stage; makeOffers
 * re-checks the top K = grabTopK (20) candidates' eligibility atomically and records K offers;
 * then K acceptOffer calls run at once (the first claim wins, the others are ALREADY_TAKEN); the
 * completion as above. Grabs/s counts requests resolved per second. Requests nobody could take are
 * cancelled and counted in the details (they cost the same work and are not excluded from the time).
 *
 * At the end of each store's run the invariants are checked (bench/lib/matchingInvariants.ts): each
 * request assigned at most once, no advisor ever over capacity, every slot given back. A broken
 * invariant throws: a throughput figure from a run that double-assigned is worthless.
 */
import type { BenchContext, BenchSuite, Comparison } from "../lib/harness.ts";
import { openBenchStore, type StoreKind } from "../lib/benchStore.ts";
import { measureBullmq, type BullmqResult } from "../lib/bullmqBaseline.ts";
import { populateCycleWorld } from "../lib/cycleWorld.ts";
import { runInFlight } from "../lib/inFlight.ts";
import { CYCLES_IN_FLIGHT as IN_FLIGHT, dispatchCycle, grabCycle } from "../lib/matchingCycles.ts";

interface Sizes {
  advisors: number;
  decisions: number;
  grabs: number;
  /** Untimed cycles before each timed phase: the JIT, script loading and connections warm up. */
  warmup: number;
}

interface PhaseResult {
  perSecond: number;
  count: number;
  /** Requests that were assigned (decisions) or won (grabs). */
  settled: number;
  elapsedMs: number;
  /** Grabs only: mean K (offers made per request). */
  meanOffers?: number;
}

interface StoreResult {
  kind: StoreKind;
  decisions: PhaseResult;
  grabs: PhaseResult;
  invariants: { requests: number; won: number };
}

async function measurePhase(
  context: BenchContext,
  label: string,
  count: number,
  warmup: number,
  cycle: () => Promise<{ settled: boolean; offers?: number }>,
): Promise<PhaseResult> {
  let settled = 0;
  let offers = 0;
  await runInFlight(warmup, IN_FLIGHT, async () => void (await cycle()));
  context.log(`${label}: ${count} with ${IN_FLIGHT} in flight`);
  const elapsedMs = await runInFlight(
    count,
    IN_FLIGHT,
    async () => {
      const outcome = await cycle();
      if (outcome.settled) settled++;
      offers += outcome.offers ?? 0;
    },
    { label, log: context.log },
  );
  return { perSecond: (count * 1000) / elapsedMs, count, settled, elapsedMs, ...(offers > 0 ? { meanOffers: offers / count } : {}) };
}

async function measureStore(context: BenchContext, kind: StoreKind, sizes: Sizes): Promise<StoreResult> {
  const { store, close } = await openBenchStore(kind, context.redisUrl, "matchingCore");
  try {
    context.log(`${kind} store: registering ${sizes.advisors.toLocaleString("en")} available advisors`);
    const { ctx, nextRequest, verify } = await populateCycleWorld(store, sizes.advisors, context.log);

    const decisions = await measurePhase(context, `${kind} store decisions`, sizes.decisions, sizes.warmup, async () => ({
      settled: await dispatchCycle(ctx, nextRequest()),
    }));
    const grabs = await measurePhase(context, `${kind} store grabs`, sizes.grabs, sizes.warmup, async () => {
      const { won, attempts } = await grabCycle(ctx, nextRequest());
      return { settled: won, offers: attempts };
    });
    context.log(`${kind} store: checking invariants`);
    return { kind, decisions, grabs, invariants: await verify() };
  } finally {
    await close();
  }
}

function compare(what: "decisions" | "grabs", result: StoreResult, bullmq: BullmqResult, sizes: Sizes): Comparison {
  const phase = result[what];
  return {
    measure: `matching core: ${what}/s (${result.kind} store)`,
    figure: phase.perSecond,
    baseline: bullmq.jobsPerSecond,
    baselineLabel: "BullMQ add+process jobs/s",
    unit: "/s",
    better: "higher",
    targetRatio: 1.0,
    details: {
      advisors: sizes.advisors,
      inFlight: IN_FLIGHT,
      ...phase,
      unsettled: phase.count - phase.settled,
      invariantsChecked: result.invariants,
      bullmq,
    },
  };
}

export const matchingCoreSuite: BenchSuite = {
  name: "matchingCore",
  async run(context) {
    const sizes: Sizes = context.quick
      ? { advisors: 1_000, decisions: 600, grabs: 200, warmup: 50 }
      : { advisors: 10_000, decisions: 6_000, grabs: 1_500, warmup: 300 };
    const bullmq = await measureBullmq({ redisUrl: context.redisUrl, jobs: sizes.decisions, inFlight: IN_FLIGHT, log: context.log });
    context.log(`BullMQ: ${bullmq.jobsPerSecond.toFixed(0)} jobs/s`);
    const comparisons: Comparison[] = [];
    for (const kind of ["redis", "memory"] as const) {
      const result = await measureStore(context, kind, sizes);
      context.log(`${kind} store: ${result.decisions.perSecond.toFixed(0)} decisions/s, ${result.grabs.perSecond.toFixed(0)} grabs/s`);
      comparisons.push(compare("decisions", result, bullmq, sizes), compare("grabs", result, bullmq, sizes));
    }
    return comparisons;
  },
};

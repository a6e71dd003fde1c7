/**
 * End-to-end throughput: whole dispatch flows (create → offer on the advisor's socket → accept, then
 * complete to free the slot) per second through our API on PostgreSQL + Redis, at a fixed number in
 * flight, against the plainest durable PostgreSQL work queue at the same concurrency. Every step of
 * our flow is durable in PostgreSQL before it answers, as the baseline's jobs are.
 */
import { runClosedLoop } from "../lib/closedLoop.ts";
import { runDispatchFlow } from "../lib/dispatchFlow.ts";
import { withDispatchWorld } from "../lib/dispatchWorld.ts";
import type { BenchContext, BenchSuite, Comparison } from "../lib/harness.ts";
import { measurePgEnqueueClaim } from "../lib/pgQueueBaseline.ts";

const CONCURRENCY = 16;
/** Slots (advisors × maxConcurrent) well above the flows in flight, so capacity never throttles. */
const ADVISORS = 32;
const MAX_CONCURRENT = 4;

export const endToEndSuite: BenchSuite = {
  name: "endToEnd",
  async run(context: BenchContext): Promise<Comparison[]> {
    const warmupMs = context.quick ? 1_000 : 3_000;
    const durationMs = context.quick ? 3_000 : 20_000;

    // The baseline first, while none of our processes run, so neither measurement loads the other.
    context.log(`endToEnd: baseline, PostgreSQL enqueue+claim with ${CONCURRENCY} workers for ${durationMs / 1000} s`);
    const baseline = await measurePgEnqueueClaim(context.databaseUrl, { concurrency: CONCURRENCY, warmupMs, durationMs, log: context.log });

    // Each worker is one client, so no client ever has two requests open.
    const world = { label: "endToEnd", advisors: ADVISORS, maxConcurrent: MAX_CONCURRENT, clients: CONCURRENCY };
    const ours = await withDispatchWorld(context, world, async ({ baseUrl, directory, inbox }) => {
      const flow = (worker: number) => runDispatchFlow(baseUrl, inbox, directory.clients[worker]!).then(() => undefined);
      context.log(`endToEnd: our API, ${CONCURRENCY} flows in flight for ${durationMs / 1000} s`);
      await runClosedLoop({ concurrency: CONCURRENCY, durationMs: warmupMs, iteration: flow });
      return runClosedLoop({ concurrency: CONCURRENCY, durationMs, iteration: flow, log: context.log });
    });
    return [
      {
        measure: "end to end: create→offer→accept flows/s",
        figure: ours.perSecond,
        baseline: baseline.perSecond,
        baselineLabel: "PostgreSQL enqueue+claim (SKIP LOCKED) jobs/s",
        unit: "/s",
        better: "higher",
        targetRatio: 1.0,
        details: { concurrency: CONCURRENCY, advisors: ADVISORS, maxConcurrent: MAX_CONCURRENT, flowIncludesComplete: true, ours, baseline },
      },
    ];
  },
};

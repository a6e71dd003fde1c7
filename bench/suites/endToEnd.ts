/**
 * End-to-end throughput: whole dispatch flows (create → offer on the advisor's socket → accept, then
 * complete to free the slot) per second through our API on PostgreSQL + Redis, at a fixed number in
 * flight, against the plainest durable PostgreSQL work queue at the same concurrency. Every step of
 * our flow is durable in PostgreSQL before it answers, as the baseline's jobs are.
 *
 * The same measured phase also gives the PostgreSQL statements and Redis calls per completed flow,
 * counted inside the server process (bench/lib/countCallsPreload.ts): everything the process sent
 * during the phase, background jobs included, divided by the flows completed. The servers' own
 * counters (pg_stat_database, INFO commandstats) go into the details as a cross-check. And the
 * server process's CPU time per flow (/proc), which the machine's noise moves less than flows/s.
 */
import { createCallCounter, describePerFlow, perFlow, redisCallsByName } from "../lib/callCounts.ts";
import { runClosedLoop } from "../lib/closedLoop.ts";
import { runDispatchFlow } from "../lib/dispatchFlow.ts";
import { withDispatchWorld } from "../lib/dispatchWorld.ts";
import type { BenchContext, BenchRow, BenchSuite } from "../lib/harness.ts";
import { measurePgEnqueueClaim } from "../lib/pgQueueBaseline.ts";
import { cpuMs } from "../lib/processCpu.ts";
import { readPgDatabaseCounters, readRedisCommandstats } from "../lib/serverCounters.ts";

const CONCURRENCY = 16;
/** Slots (advisors × maxConcurrent) well above the flows in flight, so capacity never throttles. */
const ADVISORS = 32;
const MAX_CONCURRENT = 4;
/** Issue 12's budget for the whole flow. */
const STATEMENTS_PER_FLOW_TARGET = 12;

export const endToEndSuite: BenchSuite = {
  name: "endToEnd",
  async run(context: BenchContext): Promise<BenchRow[]> {
    const warmupMs = context.quick ? 1_000 : 3_000;
    const durationMs = context.quick ? 3_000 : 20_000;

    // The baseline first, while none of our processes run, so neither measurement loads the other.
    context.log(`endToEnd: baseline, PostgreSQL enqueue+claim with ${CONCURRENCY} workers for ${durationMs / 1000} s`);
    const baseline = await measurePgEnqueueClaim(context.databaseUrl, { concurrency: CONCURRENCY, warmupMs, durationMs, log: context.log });

    // Each worker is one client, so no client ever has two requests open.
    const counter = await createCallCounter();
    const world = { label: "endToEnd", advisors: ADVISORS, maxConcurrent: MAX_CONCURRENT, clients: CONCURRENCY, server: counter.server };
    const { ours, calls } = await withDispatchWorld(context, world, async ({ baseUrl, directory, inbox, api }) => {
      const flow = (worker: number) => runDispatchFlow(baseUrl, inbox, directory.clients[worker]!).then(() => undefined);
      context.log(`endToEnd: our API, ${CONCURRENCY} flows in flight for ${durationMs / 1000} s`);
      await runClosedLoop({ concurrency: CONCURRENCY, durationMs: warmupMs, iteration: flow });
      // Readings right at both ends of the phase: the closed loop has no flow in flight at either.
      const read = async () => ({
        own: await counter.read(api.process.child),
        cpuMs: await cpuMs(api.process.child.pid),
        pg: await readPgDatabaseCounters(api.databaseUrl),
        redis: await readRedisCommandstats(context.redisUrl),
      });
      const before = await read();
      const result = await runClosedLoop({ concurrency: CONCURRENCY, durationMs, iteration: flow, log: context.log });
      const after = await read();
      return { ours: result, calls: { before, after } };
    }).finally(() => counter.dispose());

    // Failed flows (if any) did part of the work too; they are few and counted in the details.
    const flows = Math.max(1, ours.completed);
    const statements = perFlow(calls.before.own.pgStatements, calls.after.own.pgStatements, flows);
    const redis = perFlow(redisCallsByName(calls.before.own), redisCallsByName(calls.after.own), flows);
    context.log(`endToEnd: per completed flow, PostgreSQL statements ${describePerFlow(statements)}`);
    context.log(`endToEnd: per completed flow, Redis calls ${describePerFlow(redis)}`);
    const serverCpuMs = calls.before.cpuMs === null || calls.after.cpuMs === null ? null : (calls.after.cpuMs - calls.before.cpuMs) / flows;
    if (serverCpuMs !== null) context.log(`endToEnd: per completed flow, the server process's CPU ${serverCpuMs.toFixed(2)} ms`);
    const counted = { flows: ours.completed, failures: ours.failures, seconds: ours.seconds };
    return [
      {
        measure: "end to end: create→offer→accept flows/s",
        figure: ours.perSecond,
        baseline: baseline.perSecond,
        baselineLabel: "PostgreSQL enqueue+claim (SKIP LOCKED) jobs/s",
        unit: "/s",
        better: "higher",
        targetRatio: 1.0,
        details: {
          concurrency: CONCURRENCY,
          advisors: ADVISORS,
          maxConcurrent: MAX_CONCURRENT,
          flowIncludesComplete: true,
          ours,
          baseline,
          serverCpuMsPerFlow: serverCpuMs,
        },
      },
      {
        kind: "figure",
        measure: "end to end: PostgreSQL statements per flow",
        figure: statements.total,
        unit: "statements",
        atMost: STATEMENTS_PER_FLOW_TARGET,
        targetLabel: "issue 12",
        details: {
          counts:
            "every statement the server process sent through node-postgres (Client#query) during the measured phase, BEGIN/COMMIT and background jobs included, per completed flow",
          ...counted,
          byKeyword: statements.by,
          pgStatDatabasePerFlow: perFlow(calls.before.pg, calls.after.pg, flows).by,
        },
      },
      {
        kind: "figure",
        measure: "end to end: Redis calls per flow",
        figure: redis.total,
        unit: "calls",
        atMost: null,
        details: {
          counts:
            "every command the server process sent to Redis (node-redis command queue) during the measured phase, each Lua script one EVALSHA, background jobs included, per completed flow",
          ...counted,
          byCommand: redis.by,
          commandstatsPerFlow: perFlow(calls.before.redis, calls.after.redis, flows).by,
        },
      },
    ];
  },
};

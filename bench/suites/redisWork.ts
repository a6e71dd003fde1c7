/**
 * redisWork: the instructions Redis executes per matching decision and per grab, next to what it
 * executes per BullMQ job, counted by callgrind (bench/lib/callgrindRedis.ts) on a private Redis.
 *
 * Why beside matchingCore: on this 2-core machine the Redis store's decisions/s are bound by Redis
 * (one thread, 75% busy, with the bench's Node process 50% idle), and both seconds and CPU time per
 * decision moved by 30% between runs. Instruction counts repeat to within 0.7%, so a change to a script
 * shows here even when it is too small for matchingCore's noise. The ratio is the Redis side of
 * matchingCore's targets: decisions/s >= 0.5x BullMQ needs at most 2x BullMQ's instructions per
 * job, grabs/s >= 0.3x at most 3.3x (what Node spends beside is matchingCore's to show).
 *
 * The same cycles as matchingCore (bench/lib/matchingCycles.ts), with its invariants checked. The
 * private Redis is fresh, so key counts are small (1,000 advisors); a decision's cost grows little
 * with them (sorted-set updates are logarithmic). Skipped, with a line saying so, without valgrind.
 */
import { measureBullmq } from "../lib/bullmqBaseline.ts";
import { callgrindAvailable, startCallgrindRedis, type CallgrindRedis } from "../lib/callgrindRedis.ts";
import type { BenchContext, BenchSuite, Comparison } from "../lib/harness.ts";
import { openBenchStore } from "../lib/benchStore.ts";
import { populateCycleWorld } from "../lib/cycleWorld.ts";
import { runInFlight } from "../lib/inFlight.ts";
import { CYCLES_IN_FLIGHT as IN_FLIGHT, dispatchCycle, grabCycle } from "../lib/matchingCycles.ts";

const ADVISORS = 1_000;
const WARMUP = 50;

interface Counts {
  decisions: number;
  grabs: number;
  jobs: number;
}

async function countOurs(redis: CallgrindRedis, context: BenchContext, sizes: Counts): Promise<{ perDecision: number; perGrab: number; won: number }> {
  const { store, close } = await openBenchStore("redis", redis.url, "redisWork");
  try {
    context.log(`redisWork: registering ${ADVISORS.toLocaleString("en")} advisors (Redis runs about 50x slower under callgrind)`);
    const { ctx, nextRequest: next, verify } = await populateCycleWorld(store, ADVISORS, context.log);
    await runInFlight(WARMUP, IN_FLIGHT, async () => void (await dispatchCycle(ctx, next())));
    context.log(`redisWork: ${sizes.decisions} decisions`);
    const decisions = await redis.measure("decisions", () => runInFlight(sizes.decisions, IN_FLIGHT, async () => void (await dispatchCycle(ctx, next()))));
    context.log(`redisWork: ${sizes.grabs} grabs`);
    const grabs = await redis.measure("grabs", () => runInFlight(sizes.grabs, IN_FLIGHT, async () => void (await grabCycle(ctx, next()))));
    const checked = await verify();
    return { perDecision: decisions / sizes.decisions / 1000, perGrab: grabs / sizes.grabs / 1000, won: checked.won };
  } finally {
    await close();
  }
}

export const redisWorkSuite: BenchSuite = {
  name: "redisWork",
  async run(context) {
    if (!callgrindAvailable()) {
      context.log("redisWork: skipped, valgrind (callgrind_control) or redis-server is not on the PATH");
      return [];
    }
    const sizes: Counts = context.quick ? { decisions: 100, grabs: 20, jobs: 100 } : { decisions: 500, grabs: 100, jobs: 500 };
    context.log("redisWork: starting a private redis-server under callgrind");
    const redis = await startCallgrindRedis();
    try {
      // The timed jobs only: not the queue's start-up (loading its scripts) or its warm-up.
      let jobInstructions = 0;
      await measureBullmq({
        redisUrl: redis.url,
        jobs: sizes.jobs,
        inFlight: IN_FLIGHT,
        log: context.log,
        around: {
          before: async () => redis.zero(),
          after: async () => {
            jobInstructions = (await redis.dump("bullmq")) / sizes.jobs / 1000;
          },
        },
      });
      const ours = await countOurs(redis, context, sizes);
      const row = (what: "decision" | "grab", figure: number, targetRatio: number): Comparison => ({
        measure: `Redis instructions per ${what} (callgrind)`,
        figure,
        baseline: jobInstructions,
        baselineLabel: "per BullMQ add+process job",
        unit: "k instr",
        better: "lower",
        targetRatio,
        details: { advisors: ADVISORS, inFlight: IN_FLIGHT, ...sizes, invariantsChecked: { won: ours.won } },
      });
      return [row("decision", ours.perDecision, 2.0), row("grab", ours.perGrab, 1 / 0.3)];
    } finally {
      await redis.stop();
    }
  },
};

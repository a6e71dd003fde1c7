/**
 * The matchingCore baseline: BullMQ, a widely used Redis job queue, adding and processing jobs on
 * the same Redis at the same concurrency. Each job is added by one of `inFlight` closed-loop
 * producers and processed by a Worker with concurrency `inFlight` whose processor does nothing, so
 * the figure is BullMQ's own cost per job (its Lua scripts and round trips): what a queue-based
 * dispatcher would pay before doing any matching at all. Jobs are removed on completion, as a
 * high-throughput deployment would configure them.
 */
import { createNodeRedisClient, Queue, Worker } from "bullmq";
import { createClient } from "redis";
import { runInFlight } from "./inFlight.ts";
import { deleteRedisPrefix, uniqueRedisPrefix } from "./redisPrefix.ts";

const WARMUP_JOBS = 200;

export interface BullmqRun {
  redisUrl: string;
  jobs: number;
  inFlight: number;
  log(line: string): void;
  /** Called right before and right after the timed jobs (after the warm-up): e.g. to count Redis's work in between. */
  around?: { before(): Promise<void>; after(): Promise<void> };
}

export interface BullmqResult {
  jobsPerSecond: number;
  jobs: number;
  elapsedMs: number;
}

/**
 * BullMQ connections over node-redis, the client our store uses (ioredis, BullMQ's default, is not
 * installed): both sides pay the same client library's costs. BullMQ leaves clients it was given
 * open, so they are closed here.
 */
function connections(redisUrl: string) {
  const opened: Array<ReturnType<typeof createClient>> = [];
  return {
    next() {
      const raw = createClient({ url: redisUrl });
      raw.on("error", () => {});
      opened.push(raw);
      return createNodeRedisClient(raw);
    },
    async close() {
      await Promise.all(opened.filter((raw) => raw.isOpen).map((raw) => raw.quit()));
    },
  };
}

export async function measureBullmq(run: BullmqRun): Promise<BullmqResult> {
  const keyPrefix = uniqueRedisPrefix("bullmq");
  // BullMQ adds its own ":" after the prefix.
  const prefix = keyPrefix.slice(0, -1);
  const clients = connections(run.redisUrl);
  const queue = new Queue("bench", { connection: clients.next(), prefix });
  let completed = 0;
  let onCompleted = () => {};
  const worker = new Worker("bench", async () => {}, { connection: clients.next(), prefix, concurrency: run.inFlight });
  worker.on("completed", () => {
    completed++;
    onCompleted();
  });
  try {
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);
    const addAndProcess = async (jobs: number, label?: string): Promise<number> => {
      const target = completed + jobs;
      const allDone = new Promise<void>((resolve) => {
        onCompleted = () => completed >= target && resolve();
      });
      const started = performance.now();
      const progress = label ? { label, log: run.log } : undefined;
      await runInFlight(jobs, run.inFlight, async (i) => void (await queue.add("job", { i }, { removeOnComplete: true, removeOnFail: true })), progress);
      await allDone;
      return performance.now() - started;
    };
    await addAndProcess(WARMUP_JOBS);
    run.log(`BullMQ: adding and processing ${run.jobs} jobs, ${run.inFlight} in flight`);
    await run.around?.before();
    const elapsedMs = await addAndProcess(run.jobs, "BullMQ jobs added");
    await run.around?.after();
    return { jobsPerSecond: (run.jobs * 1000) / elapsedMs, jobs: run.jobs, elapsedMs };
  } finally {
    // Every step runs even when an earlier one fails; the prefix deletion catches whatever obliterate missed.
    const steps = [
      () => worker.close(),
      () => queue.obliterate({ force: true }),
      () => queue.close(),
      () => clients.close(),
      () => deleteRedisPrefix(run.redisUrl, keyPrefix),
    ];
    for (const step of steps) await step().catch((error: Error) => run.log(`BullMQ cleanup: ${error.message}`));
  }
}

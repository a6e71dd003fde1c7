/**
 * Closed-model load: `concurrency` workers, each starting its next iteration as soon as the last one
 * finishes, for a fixed time. Throughput at a fixed number in flight, the same way for our API and
 * for its baseline.
 */
export interface ClosedLoopResult {
  completed: number;
  failures: number;
  firstError?: string;
  /** From the first start until the last worker finished (the tail after the deadline included). */
  seconds: number;
  perSecond: number;
}

export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
  /** One unit of work by worker `worker`; a throw counts as a failure and the worker carries on. */
  iteration(worker: number): Promise<void>;
  /** Progress every few seconds (omit for short phases). */
  log?(line: string): void;
}

const PROGRESS_EVERY_MS = 5_000;

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const started = performance.now();
  const deadline = started + options.durationMs;
  let completed = 0;
  let failures = 0;
  let firstError: string | undefined;
  const progress = options.log
    ? setInterval(() => options.log!(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${completed} done, ${failures} failed`), PROGRESS_EVERY_MS)
    : undefined;
  const worker = async (index: number) => {
    while (performance.now() < deadline) {
      try {
        await options.iteration(index);
        completed++;
      } catch (error) {
        failures++;
        firstError ??= (error as Error).message;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - started) / 1000;
  return { completed, failures, ...(firstError ? { firstError } : {}), seconds, perSecond: completed / seconds };
}

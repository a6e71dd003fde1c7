/**
 * Runs `total` tasks with at most `inFlight` of them under way at once (a closed loop: a task
 * starts as soon as one ends), the load shape the throughput comparisons share so ours and the
 * baseline see the same concurrency.
 */
export interface InFlightProgress {
  label: string;
  log(line: string): void;
  /** How often to report, in ms (default 3 s). */
  everyMs?: number;
}

/** Returns the elapsed milliseconds from the first task's start to the last one's end. */
export async function runInFlight(total: number, inFlight: number, task: (index: number) => Promise<void>, progress?: InFlightProgress): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const reporter = progress
    ? setInterval(
        () => progress.log(`  ${progress.label}: ${done}/${total} (${((done * 1000) / (performance.now() - started)).toFixed(0)}/s so far)`),
        progress.everyMs ?? 3_000,
      )
    : undefined;
  let failed = false;
  const worker = async () => {
    while (next < total && !failed) {
      try {
        await task(next++);
      } catch (error) {
        failed = true;
        throw error;
      }
      done++;
    }
  };
  try {
    // Settle every worker before failing, so nothing is still using the caller's resources when it cleans up.
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(inFlight, total) }, worker));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failure) throw failure.reason;
  } finally {
    clearInterval(reporter);
  }
  return performance.now() - started;
}

/**
 * Open-model load: sends at a constant rate whatever the responses do, so a slow server builds a
 * backlog and shows it in the tail latencies instead of slowing the sender down (the coordinated
 * omission a closed loop has). Each send reports the latency it measured.
 */
import { percentile } from "./stats.ts";

export interface OpenLoadOptions {
  ratePerSecond: number;
  durationMs: number;
  /**
   * Send number `index`; resolves with the latency (ms) it measured, rejects when it failed. A
   * failure (e.g. a time-out) counts as an infinite latency, so dropping slow sends can never make
   * the percentiles look better.
   */
  send(index: number): Promise<number>;
  log?(line: string): void;
}

export interface OpenLoadResult {
  sent: number;
  failures: number;
  firstError?: string;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The latest a send left after its scheduled time: large values mean the generator itself lagged. */
  maxSendLagMs: number;
}

const PROGRESS_EVERY_MS = 5_000;

export async function runOpenLoad(options: OpenLoadOptions): Promise<OpenLoadResult> {
  const intervalMs = 1000 / options.ratePerSecond;
  const total = Math.round((options.durationMs / 1000) * options.ratePerSecond);
  const latencies: number[] = [];
  const inFlight: Array<Promise<void>> = [];
  let failures = 0;
  let firstError: string | undefined;
  let maxSendLagMs = 0;
  let lastProgress = performance.now();

  const started = performance.now();
  for (let index = 0; index < total; index++) {
    // Scheduled from the start time, not the previous send, so timer jitter never accumulates.
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - due);
    inFlight.push(
      options.send(index).then(
        (latency) => void latencies.push(latency),
        (error: Error) => {
          failures++;
          latencies.push(Infinity);
          firstError ??= error.message;
        },
      ),
    );
    if (options.log && performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = performance.now();
      options.log(`  ${((lastProgress - started) / 1000).toFixed(0)} s: sent ${index + 1}/${total}, ${latencies.length - failures} done, ${failures} failed`);
    }
  }
  await Promise.all(inFlight);
  return {
    sent: total,
    failures,
    ...(firstError ? { firstError } : {}),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    maxSendLagMs,
  };
}

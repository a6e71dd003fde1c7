/**
 * The in-memory RateLimiter (no REDIS_URL: one process): a fixed window per (action, principal)
 * (window.ts), the same semantics as the Redis limiter's script. Each take does its read and write
 * synchronously, so concurrent takes on one event loop cannot both see the last free slot.
 */
import type { RateDecision, RateLimiter, RateRule } from "./port.ts";
import { decide } from "./window.ts";

interface Window {
  count: number;
  /** Epoch ms when the window closes and the count starts again. */
  endsAt: number;
}

/** How often closed windows are dropped, so principals who stopped calling do not pile up. */
const SWEEP_EVERY_MS = 60_000;

export function createMemoryRateLimiter(clock: () => number = Date.now): RateLimiter {
  const windows = new Map<string, Window>();
  let nextSweepAt = 0;

  const sweep = (now: number) => {
    if (now < nextSweepAt) return;
    nextSweepAt = now + SWEEP_EVERY_MS;
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
  };

  return {
    async take(principalId: string, rule: RateRule): Promise<RateDecision> {
      const now = clock();
      sweep(now);
      // JSON, not a separator: token subjects may contain any character, so "a:b" + "c" must not meet "a" + "b:c".
      const key = JSON.stringify([rule.action, principalId]);
      let window = windows.get(key);
      if (!window || window.endsAt <= now) {
        window = { count: 0, endsAt: now + rule.windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return decide(window.count, window.endsAt - now, rule);
    },
  };
}

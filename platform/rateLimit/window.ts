/**
 * The fixed-window rule both RateLimiter adapters apply, so memory and Redis answer alike: a window
 * opens at a principal's first call for an action and lasts rule.windowMs; the first rule.limit
 * calls in it pass.
 */
import type { RateDecision, RateRule } from "./port.ts";

/** The decision for the `count`-th call of a window that closes in `msLeft` ms. */
export function decide(count: number, msLeft: number, rule: RateRule): RateDecision {
  if (count <= rule.limit) return { ok: true, remaining: rule.limit - count };
  // Retry-After is whole seconds; never 0, which would invite an immediate retry into the same window.
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)) };
}

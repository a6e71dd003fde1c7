/**
 * Per-principal rate limits on request creation and on accept/grab: a fixed window counter per
 * (action, principal), held in Redis when REDIS_URL is set (shared by every process; one atomic
 * INCR+PEXPIRE script), otherwise in memory.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/errors.ts";
import type { AppEnv } from "./context.ts";

export interface RateRule {
  /** Names the counter, e.g. "requests.create". */
  action: string;
  limit: number;
  windowMs: number;
}

export type RateDecision = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one call of `rule.action` by `principalId`; refuses past `rule.limit` in the window. */
  take(principalId: string, rule: RateRule): Promise<RateDecision>;
}

/** Middleware: 429 RATE_LIMITED with Retry-After once the principal is over the rule. */
export function rateLimited(limiter: RateLimiter, rule: RateRule): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    const decision = await limiter.take(principal?.sub ?? "anonymous", rule);
    if (!decision.ok) {
      c.header("Retry-After", String(decision.retryAfterSeconds));
      throw new AppError("RATE_LIMITED", `too many ${rule.action} calls; retry in ${decision.retryAfterSeconds} s`);
    }
    await next();
  };
}

/**
 * The rate-limit middleware: per-principal limits on request creation and on accept/grab, over a
 * RateLimiter (platform/rateLimit/port.ts): a fixed window counter per (action, principal), held in
 * Redis when REDIS_URL is set (app/rateLimit/redis.ts, one atomic script), otherwise in memory.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../core/errors.ts";
import type { RateLimiter, RateRule } from "../platform/rateLimit/port.ts";
import type { AppEnv } from "./context.ts";

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

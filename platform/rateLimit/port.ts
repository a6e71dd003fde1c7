/**
 * The rate limiter's port: a fixed window counter per (action, principal). Adapters: in memory
 * (memory.ts) and on Redis (app/rateLimit/redis.ts, which runs the shared script loader); the API's
 * middleware (api/rateLimit.ts) applies it.
 */
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

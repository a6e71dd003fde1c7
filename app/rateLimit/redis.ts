/**
 * The Redis RateLimiter (REDIS_URL set): one counter per (action, principal) shared by every
 * process, counted by one script (matching/lua/rateLimit.lua: INCR, PEXPIRE on the window's first
 * call, PTTL) run through the matching store's script loader (EVALSHA, EVAL on NOSCRIPT). The
 * decision is window.ts's, shared with the memory limiter, so both adapters agree.
 *
 * Key: `<prefix>rl:{<action>:<principal>}`, one hash tag per counter (fits Redis Cluster). Both
 * parts are escaped, so a principal id cannot forge another counter's key. Counters expire with
 * their window; nothing else needs cleaning up.
 */
import type { RateDecision, RateLimiter, RateRule } from "../../platform/rateLimit/port.ts";
import { outcomeOf } from "../../matching/store/redis/codes.ts";
import { escapeKeyPart } from "../../matching/store/redis/keys.ts";
import { runScript } from "../../matching/store/redis/scripts.ts";
import type { RedisClient } from "../../platform/redis.ts";
import { decide } from "../../platform/rateLimit/window.ts";

export interface RedisRateLimiterOptions {
  /** Namespace of the counters, e.g. the deployment's REDIS_PREFIX ("adx:"). */
  prefix: string;
}

export function rateLimitKey(prefix: string, action: string, principalId: string): string {
  return `${prefix}rl:{${escapeKeyPart(action)}:${escapeKeyPart(principalId)}}`;
}

export function createRedisRateLimiter(client: RedisClient, options: RedisRateLimiterOptions): RateLimiter {
  return {
    async take(principalId: string, rule: RateRule): Promise<RateDecision> {
      const key = rateLimitKey(options.prefix, rule.action, principalId);
      const reply = await runScript(client, "rateLimit", [key], [String(Math.max(1, Math.ceil(rule.windowMs)))]);
      const outcome = outcomeOf("rateLimit", reply);
      if (!outcome.ok) throw new Error(`rate limiter: unexpected refusal ${outcome.reason}`);
      const [count, pttl] = outcome.payload.map(Number);
      if (!Number.isFinite(count) || !Number.isFinite(pttl)) throw new Error(`rate limiter: malformed reply ${JSON.stringify(reply)}`);
      return decide(count!, pttl!, rule);
    },
  };
}

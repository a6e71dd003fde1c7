/**
 * The RateLimiter adapters: one suite on memory and on Redis (fixed window per action and principal),
 * plus what only each can get wrong: the memory limiter's exact window arithmetic on a manual clock,
 * and the Redis limiter's key layout and atomicity across connections.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RateDecision, RateLimiter, RateRule } from "../../platform/rateLimit/port.ts";
import type { RedisClient } from "../../platform/redis.ts";
import { createMemoryRateLimiter } from "../../platform/rateLimit/memory.ts";
import { createRedisRateLimiter, rateLimitKey } from "../../app/rateLimit/redis.ts";
import { hashTagOf } from "../../matching/store/redis/keys.ts";
import { connectTestRedis } from "../matching/support/redisStores.ts";
import { describeWithServices, probeRedis, testKeyPrefix, uniqueTag } from "../support/services.ts";

const rule = (overrides: Partial<RateRule> = {}): RateRule => ({ action: `act.${uniqueTag()}`, limit: 3, windowMs: 60_000, ...overrides });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const oks = (decisions: RateDecision[]) => decisions.filter((d) => d.ok).length;

/**
 * The shared suite. `open()` gives a limiter over a namespace no other test uses; `openMany(n)` gives
 * n limiters sharing one namespace (for Redis: over n separate connections, like n processes).
 */
function rateLimiterSuite(name: string, open: () => Promise<RateLimiter>, openMany: (n: number) => Promise<RateLimiter[]>): void {
  describe(name, () => {
    it("allows `limit` calls in a window, counting down remaining, then refuses with a Retry-After within the window", async () => {
      const limiter = await open();
      const r = rule({ limit: 3, windowMs: 60_000 });
      const decisions: RateDecision[] = [];
      for (let i = 0; i < 5; i++) decisions.push(await limiter.take("alice", r));
      expect(decisions.slice(0, 3)).toEqual([
        { ok: true, remaining: 2 },
        { ok: true, remaining: 1 },
        { ok: true, remaining: 0 },
      ]);
      for (const refused of decisions.slice(3)) {
        expect(refused.ok).toBe(false);
        if (!refused.ok) {
          expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
          expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
        }
      }
    });

    it("starts a new window once the old one has passed", async () => {
      const limiter = await open();
      const r = rule({ limit: 2, windowMs: 300 });
      expect(oks([await limiter.take("bob", r), await limiter.take("bob", r), await limiter.take("bob", r)])).toBe(2);
      const refused = await limiter.take("bob", r);
      expect(refused).toEqual({ ok: false, retryAfterSeconds: 1 }); // never 0, even with < 1 s left
      await sleep(400);
      expect(await limiter.take("bob", r)).toEqual({ ok: true, remaining: 1 });
      expect(await limiter.take("bob", r)).toEqual({ ok: true, remaining: 0 });
      expect((await limiter.take("bob", r)).ok).toBe(false);
    });

    it("keeps principals and actions independent", async () => {
      const limiter = await open();
      const create = rule({ limit: 1 });
      const accept = rule({ limit: 1 });
      expect((await limiter.take("carol", create)).ok).toBe(true);
      expect((await limiter.take("carol", create)).ok).toBe(false);
      expect((await limiter.take("dave", create)).ok).toBe(true);
      expect((await limiter.take("carol", accept)).ok).toBe(true);
      expect((await limiter.take("dave", accept)).ok).toBe(true);
      expect((await limiter.take("dave", accept)).ok).toBe(false);
    });

    it("does not confuse principals whose ids contain separators or braces", async () => {
      const limiter = await open();
      const r = rule({ limit: 1, action: "a" });
      expect((await limiter.take("x:y}", r)).ok).toBe(true);
      expect((await limiter.take("x", { ...r, action: "a:x" })).ok).toBe(true);
      expect((await limiter.take("y}", { ...r, action: "a:x" })).ok).toBe(true);
      expect((await limiter.take("x:y}", r)).ok).toBe(false);
      // Subjects can hold any character, NUL included (tokens are minted with arbitrary subjects).
      expect((await limiter.take("\u0000b", { ...r, action: "n" })).ok).toBe(true);
      expect((await limiter.take("b", { ...r, action: "n\u0000" })).ok).toBe(true);
    });

    it("100 concurrent takes with limit 10 across several limiters on one namespace: exactly 10 allowed", async () => {
      const limiters = await openMany(5);
      const r = rule({ limit: 10 });
      const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => limiters[i % limiters.length]!.take("eve", r)));
      expect(oks(decisions)).toBe(10);
      const remaining = decisions.flatMap((d) => (d.ok ? [d.remaining] : []));
      expect(remaining.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });
}

// ---- memory -------------------------------------------------------------------------------------

rateLimiterSuite(
  "rate limiter: memory",
  async () => createMemoryRateLimiter(),
  async (n) => {
    // One process has one limiter; "several" here means concurrent callers of the same one.
    const limiter = createMemoryRateLimiter();
    return Array.from({ length: n }, () => limiter);
  },
);

describe("rate limiter: memory, on a manual clock", () => {
  it("opens the window at the first call and reports the seconds left, rounded up", async () => {
    let now = 1_000_000;
    const limiter = createMemoryRateLimiter(() => now);
    const r = rule({ limit: 1, windowMs: 10_000 });
    expect((await limiter.take("p", r)).ok).toBe(true);
    now += 2_500;
    expect(await limiter.take("p", r)).toEqual({ ok: false, retryAfterSeconds: 8 });
    now += 7_499;
    expect(await limiter.take("p", r)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 1; // exactly at the window's end: a new window
    expect(await limiter.take("p", r)).toEqual({ ok: true, remaining: 0 });
  });
});

// ---- Redis --------------------------------------------------------------------------------------

const redisProblem = await probeRedis();

describeWithServices("rate limiter: redis", [redisProblem], () => {
  const clients: RedisClient[] = [];
  const prefixes: string[] = [];
  const connect = async () => {
    const client = await connectTestRedis();
    clients.push(client);
    return client;
  };
  const newPrefix = () => {
    const prefix = testKeyPrefix();
    prefixes.push(prefix);
    return prefix;
  };
  let client: RedisClient;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) for (const key of keys) await client.unlink(String(key));
    }
    await Promise.all(clients.map((c) => c.quit()));
  });

  rateLimiterSuite(
    "shared suite",
    async () => createRedisRateLimiter(client, { prefix: newPrefix() }),
    async (n) => {
      const prefix = newPrefix();
      return Promise.all(Array.from({ length: n }, async () => createRedisRateLimiter(await connect(), { prefix })));
    },
  );

  it("keeps one counter per (action, principal) under <prefix>rl:{…}, one hash tag each, expiring with its window", async () => {
    const prefix = newPrefix();
    const limiter = createRedisRateLimiter(client, { prefix });
    const r = rule({ action: "offers.accept", limit: 5, windowMs: 30_000 });
    await limiter.take("adv_1", r);
    await limiter.take("adv_1", r);
    const key = rateLimitKey(prefix, "offers.accept", "adv_1");
    expect(key).toBe(`${prefix}rl:{offers.accept:adv_1}`);
    expect(hashTagOf(key)).toBe("offers.accept:adv_1");
    expect(await client.get(key)).toBe("2");
    const pttl = await client.pTTL(key);
    expect(pttl).toBeGreaterThan(29_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    // Braces in an id are escaped, so it cannot move the hash tag or land on another counter.
    expect(hashTagOf(rateLimitKey(prefix, "a", "}{x"))).toBe("a:%007d%007bx");
  });

  it("a counter that lost its expiry gets a new window instead of blocking the principal for good", async () => {
    const prefix = newPrefix();
    const limiter = createRedisRateLimiter(client, { prefix });
    const r = rule({ action: "requests.create", limit: 1, windowMs: 5_000 });
    await client.set(rateLimitKey(prefix, r.action, "cli_1"), "7"); // no TTL
    expect((await limiter.take("cli_1", r)).ok).toBe(false);
    const pttl = await client.pTTL(rateLimitKey(prefix, r.action, "cli_1"));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(5_000);
  });
});

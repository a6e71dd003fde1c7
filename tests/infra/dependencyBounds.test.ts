/**
 * Every PostgreSQL statement and every Redis command is bounded: against the real services behind a
 * TCP proxy that can stall (connections accepted, nothing answered), calls reject within the bound
 * with an error the API maps to 503, connections that stopped answering are never reused, and
 * everything works again once the stall ends. Small bounds (300-500 ms) keep the suite quick.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPostgres, type Database } from "../../platform/database.ts";
import { closeClient, connectRedis, openRedisClient, RedisCommandTimeoutError, RedisUnresponsiveError, type RedisHandle } from "../../platform/redis.ts";
import { classifyUnavailable } from "../../platform/unavailable.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcpProxy.ts";

const PG_TIMEOUT_MS = 500;
const REDIS_TIMEOUT_MS = 300;

async function timedRejection(work: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work();
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error("expected a rejection");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithServices("PostgreSQL bounds through a stalling proxy", [await probePostgres()], () => {
  let scratch: ScratchDatabase;
  let proxy: TcpProxy;
  let database: Database;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: false });
    const url = new URL(scratch.url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.host = `127.0.0.1:${proxy.port}`;
    database = await openPostgres(url.toString(), { poolSize: 2, timeoutMs: PG_TIMEOUT_MS });
    await database.prisma.$executeRawUnsafe("CREATE TABLE probe (id int)");
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await database?.close().catch(() => {});
    await proxy?.close();
    await scratch?.drop();
  });

  it("a statement running past the bound is cancelled by the server (57014), a 503", async () => {
    const { error, ms } = await timedRejection(() => database.prisma.$queryRawUnsafe("SELECT pg_sleep(5)::text"));
    expect(classifyUnavailable(error)).toEqual({ dependency: "database", reason: "timed out" });
    expect(ms).toBeLessThan(PG_TIMEOUT_MS + 1_000);
    // The connection survived the cancel and serves the next statement.
    expect(await database.prisma.$queryRawUnsafe("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("stalled: queries, transactions and batches reject within the bound, then work again", async () => {
    await database.prisma.$queryRawUnsafe("SELECT 1");
    await proxy.stall();
    try {
      const outcomes = await Promise.all([
        timedRejection(() => database.prisma.$queryRawUnsafe("SELECT 1")),
        timedRejection(() => database.prisma.$transaction(async (tx) => tx.$queryRawUnsafe("SELECT 1"))),
        // Options as long as the ledger's: the pool's connect bound still applies.
        timedRejection(() => database.prisma.$transaction(async (tx) => tx.$queryRawUnsafe("SELECT 1"), { maxWait: 60_000, timeout: 30_000 })),
        timedRejection(() => database.prisma.$transaction([database.prisma.$queryRawUnsafe("SELECT 1")])),
      ]);
      for (const { error, ms } of outcomes) {
        expect(classifyUnavailable(error)?.dependency, String(error)).toBe("database");
        // query_timeout is the bound plus a 500 ms margin; allow for a loaded machine.
        expect(ms).toBeLessThan(PG_TIMEOUT_MS + 500 + 1_500);
      }
    } finally {
      await proxy.restore();
    }
    await sleep(100);
    expect(await database.prisma.$queryRawUnsafe("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  it("a transaction whose statement stalled leaves nothing open for the next borrower", async () => {
    // Warm both pooled connections, then stall in the middle of a transaction that has written.
    await Promise.all([database.prisma.$queryRawUnsafe("SELECT pg_sleep(0.05)::text"), database.prisma.$queryRawUnsafe("SELECT pg_sleep(0.05)::text")]);
    const transaction = timedRejection(() =>
      database.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe("INSERT INTO probe VALUES (1)");
        await sleep(200);
        await tx.$queryRawUnsafe("SELECT 2");
      }),
    );
    await sleep(100);
    await proxy.stall();
    const { error } = await transaction;
    expect(classifyUnavailable(error)?.dependency).toBe("database");
    // When the partition heals, everything held in it is delivered: a connection still inside the
    // abandoned transaction would now run later statements in it (and see its uncommitted row).
    await sleep(200);
    await proxy.restore();
    await sleep(200);
    for (let i = 0; i < 4; i++) {
      const [row] = await database.prisma.$queryRawUnsafe<Array<{ tx: string | null; n: number }>>(
        "SELECT txid_current_if_assigned()::text AS tx, (SELECT count(*)::int FROM probe) AS n",
      );
      expect(row).toEqual({ tx: null, n: 0 });
    }
  });

  it("an exhausted pool answers 'no free connection' within the bound instead of queueing", async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const hold = () =>
      database.prisma.$transaction(async (tx) => {
        await tx.$queryRawUnsafe("SELECT 1");
        await released;
      });
    const held = [hold(), hold()];
    await sleep(100);
    try {
      for (const work of [
        () => database.prisma.$queryRawUnsafe("SELECT 1"),
        () => database.prisma.$transaction(async (tx) => tx.$queryRawUnsafe("SELECT 1")),
        () => database.prisma.$transaction(async (tx) => tx.$queryRawUnsafe("SELECT 1"), { maxWait: 60_000, timeout: 30_000 }),
      ]) {
        const { error, ms } = await timedRejection(work);
        expect(classifyUnavailable(error), String(error)).toEqual({ dependency: "database", reason: "no free connection" });
        expect(ms).toBeLessThan(PG_TIMEOUT_MS + 1_000);
      }
    } finally {
      release();
      await Promise.all(held);
    }
  });
});

describeWithServices("Redis bounds through a stalling proxy", [await probeRedis()], () => {
  let proxy: TcpProxy;
  let redis: RedisHandle;
  const errors: Error[] = [];
  const key = `${testKeyPrefix()}bounds`;

  beforeAll(async () => {
    const url = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 6379));
    url.host = `127.0.0.1:${proxy.port}`;
    redis = await connectRedis(url.toString(), (error) => errors.push(error), { timeoutMs: REDIS_TIMEOUT_MS });
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await redis?.client.del(key).catch(() => {});
    await redis?.close().catch(() => {});
    await proxy?.close();
  });

  it("keeps a healthy idle connection: pings answer before the socket's inactivity timeout", async () => {
    await redis.client.set(key, "1");
    await sleep(REDIS_TIMEOUT_MS * 5);
    expect(errors).toEqual([]);
    expect(await redis.client.get(key)).toBe("1");
  });

  it("stalled: a command rejects within the bound, later ones fail at once, all 503s, and service resumes", async () => {
    await proxy.stall();
    try {
      const first = await timedRejection(() => redis.client.set(key, "2"));
      expect(first.error).toBeInstanceOf(RedisCommandTimeoutError);
      expect(first.ms).toBeLessThan(REDIS_TIMEOUT_MS + 700);
      // For a few bounds' time, every call fails fast with a 503 (refused, reconnecting, or timed out).
      const until = Date.now() + REDIS_TIMEOUT_MS * 8;
      let calls = 0;
      while (Date.now() < until) {
        const { error, ms } = await timedRejection(() => redis.client.get(key));
        expect(classifyUnavailable(error), String(error)).not.toBeNull();
        expect(ms).toBeLessThan(REDIS_TIMEOUT_MS + 700);
        calls += 1;
        await sleep(50);
      }
      expect(calls).toBeGreaterThan(5);
      expect(errors.some((e) => e instanceof RedisCommandTimeoutError || e instanceof RedisUnresponsiveError || /Socket timeout/.test(e.message))).toBe(true);
    } finally {
      await proxy.restore();
    }
    const deadline = Date.now() + 10_000;
    let value: string | null | undefined;
    while (Date.now() < deadline && value === undefined) {
      value = await redis.client.get(key).catch(() => undefined);
      if (value === undefined) await sleep(100);
    }
    // A command that timed out may still have been applied: the partition held it, and delivered it
    // when it healed (as TCP would). A timeout says "unknown outcome", never "not done".
    expect(["1", "2"]).toContain(value);
    await redis.client.set(key, "3");
    expect(await redis.client.get(key)).toBe("3");
  });

  it("closing a connection that is reconnecting returns at once (a QUIT would wait for ever)", async () => {
    const url = new URL(TEST_REDIS_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const own = await openRedisClient({ url: url.toString() }, () => {}, { timeoutMs: REDIS_TIMEOUT_MS });
    // Dropped and refused: the client reconnects with backoff, as an idle one does after an outage.
    await proxy.cut();
    try {
      const until = Date.now() + 20 * REDIS_TIMEOUT_MS;
      while (own.isReady && Date.now() < until) await sleep(20);
      expect(own.isReady).toBe(false);
      const started = Date.now();
      await closeClient(own, REDIS_TIMEOUT_MS);
      expect(Date.now() - started).toBeLessThan(REDIS_TIMEOUT_MS + 700);
      expect(own.isOpen).toBe(false);
    } finally {
      await proxy.restore();
    }
  });
});

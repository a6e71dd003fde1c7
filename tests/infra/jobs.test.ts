/**
 * Scheduled jobs: leader election between schedulers sharing one Redis store namespace, presence
 * expiry on an engine's store, licence-expiry withdrawal of open offers (on PGlite and on a private
 * PostgreSQL database, so the SQL's time comparison is checked on the real server), and the
 * scheduler's own duties (runs on the leader, logs duration and failures).
 */
import { pino, type Logger } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Database } from "../../platform/database.ts";
import { withdrawUnlicensedOffers } from "../../directory/licenceEnforcement.ts";
import { expireLapsedPresence } from "../../app/jobs/presence.ts";
import { startJobs, type Jobs } from "../../app/jobs/scheduler.ts";
import type { RedisClient } from "../../platform/redis.ts";
import type { DomainEvent } from "../../matching/events.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, testKeyPrefix } from "../support/services.ts";
import { connectTestRedis } from "../matching/support/redisStores.ts";
import { createWorld, type World } from "../matching/support/world.ts";

const TTL = 45_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = pino({ level: "silent" });

/** A pino logger whose entries land in `entries`. */
function capturingLogger(): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void entries.push(JSON.parse(line)) });
  return { logger, entries };
}

// ---- leader election --------------------------------------------------------------------------------

/**
 * A store whose lease calls can be frozen, as if its process stalled (a long GC pause, a hung
 * connection): frozen calls wait until thaw() and only then reach Redis.
 */
function freezable(store: MatchingStore): MatchingStore & { freeze(): void; thaw(): void } {
  let gate: Promise<void> | null = null;
  let open = () => {};
  const held =
    <T>(call: () => Promise<T>) =>
    async (): Promise<T> => {
      if (gate) await gate;
      return call();
    };
  return {
    ...store,
    acquireLease: (name, token, ttl) => held(() => store.acquireLease(name, token, ttl))(),
    renewLease: (name, token, ttl) => held(() => store.renewLease(name, token, ttl))(),
    freeze() {
      gate = new Promise((resolve) => (open = resolve));
    },
    thaw() {
      gate = null;
      open();
    },
  };
}

/** Samples both schedulers every 10 ms until `until` holds or `ms` pass; fails if both ever lead at once. */
async function watchLeaders(a: Jobs, b: Jobs, ms: number, until: () => boolean = () => false): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    expect(a.isLeader() && b.isLeader(), "two leaders at once").toBe(false);
    if (until()) return performance.now() - started;
    await sleep(10);
  }
  return performance.now() - started;
}

describeWithServices("job leader election on one Redis namespace", [await probeRedis()], () => {
  const LEASE = 1_000;
  let db: Database;
  let clients: RedisClient[] = [];
  let running: Jobs[] = [];
  let prefix: string;

  beforeAll(async () => {
    db = await openMigratedPglite();
  });
  afterEach(async () => {
    await Promise.all(running.map((jobs) => jobs.stop()));
    running = [];
    if (clients[0]) await createRedisMatchingStore(clients[0], { prefix }).reset();
    await Promise.all(clients.map((client) => client.quit()));
    clients = [];
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Two "processes": each its own Redis connection and engine, one shared key prefix. */
  async function twoSchedulers(): Promise<{ a: Jobs; b: Jobs; storeA: ReturnType<typeof freezable> }> {
    prefix = testKeyPrefix();
    clients = [await connectTestRedis(), await connectTestRedis()];
    const storeA = freezable(createRedisMatchingStore(clients[0]!, { prefix }));
    const storeB = createRedisMatchingStore(clients[1]!, { prefix });
    // A live state (as after a start's rebuild), so the fenced writes run.
    await storeB.setGeneration("test");
    const world = await createWorld(db, storeA);
    const start = (store: MatchingStore, engine = world.engine) =>
      startJobs({ engine, store, prisma: db.prisma, logger: silent, clock: world.clock, presenceTtlMs: TTL, leaseTtlMs: LEASE });
    const a = start(storeA);
    running.push(a);
    await vi.waitFor(() => expect(a.isLeader()).toBe(true), { timeout: LEASE });
    const b = start(storeB, world.peer(storeB));
    running.push(b);
    return { a, b, storeA };
  }

  it("exactly one of two schedulers leads, through many renewals", async () => {
    const { a, b } = await twoSchedulers();
    await watchLeaders(a, b, 3 * LEASE);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
  });

  it("when the leader stops (releasing its lease), the other takes over within the lease time", async () => {
    const { a, b } = await twoSchedulers();
    await sleep(LEASE / 2);
    await a.stop();
    running = running.filter((jobs) => jobs !== a);
    expect(a.isLeader()).toBe(false);
    const tookOver = await watchLeaders(a, b, 2 * LEASE, () => b.isLeader());
    expect(b.isLeader()).toBe(true);
    expect(tookOver).toBeLessThan(LEASE);
  });

  it("when the leader stalls, it stops leading by itself and the other takes over once the lease lapses; never two at once", async () => {
    const { a, b, storeA } = await twoSchedulers();
    storeA.freeze();
    const frozenAt = performance.now();
    // The stalled leader gives up no later than one lease after its last renewal...
    await watchLeaders(a, b, 2 * LEASE, () => !a.isLeader());
    expect(a.isLeader()).toBe(false);
    expect(performance.now() - frozenAt).toBeLessThanOrEqual(LEASE + 150); // + sampling slack under load
    // ...and the other takes the lease after Redis expires it (one lease), within one retry (a third).
    await watchLeaders(a, b, 3 * LEASE, () => b.isLeader());
    expect(b.isLeader()).toBe(true);
    expect(performance.now() - frozenAt).toBeLessThan(LEASE + LEASE / 3 + 300);

    // Thawed, the old leader finds its lease gone and stays a follower.
    storeA.thaw();
    await watchLeaders(a, b, LEASE);
    expect(a.isLeader()).toBe(false);
    expect(b.isLeader()).toBe(true);
  });
});

// ---- presence expiry ----------------------------------------------------------------------------------

describe("presence expiry (memory store, engine on PGlite)", () => {
  let db: Database;
  let world: World;
  beforeAll(async () => {
    db = await openMigratedPglite();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("sets advisors whose heartbeat lapsed offline, out of the candidate index; fresh ones stay", async () => {
    world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL });
    const quiet = await world.addAdvisor();
    const away = await world.addAdvisor();
    const chatty = await world.addAdvisor();
    await world.engine.setPresence(quiet, "available");
    await world.engine.setPresence(away, "away");
    await world.engine.setPresence(chatty, "available");
    const query = { pool: "branch" as const, poolId: world.branchId, licence: "fund_sales" as const, language: null, minRisk: 1, limit: 10 };
    expect((await world.store.findCandidates(query)).map((s) => s.profile.id).sort()).toEqual([quiet, chatty].sort());

    world.clock.advance(TTL - 1);
    expect(await expireLapsedPresence({ store: world.store, clock: world.clock, presenceTtlMs: TTL })).toEqual({ expired: 0, refreshed: 0 });
    await world.engine.setPresence(chatty, "available"); // its heartbeat
    world.clock.advance(1);

    expect(await expireLapsedPresence({ store: world.store, clock: world.clock, presenceTtlMs: TTL })).toEqual({ expired: 2, refreshed: 0 });
    expect((await world.store.getAdvisor(quiet))?.supply.presence).toBe("offline");
    expect((await world.store.getAdvisor(away))?.supply.presence).toBe("offline");
    expect((await world.store.getAdvisor(chatty))?.supply.presence).toBe("available");
    expect((await world.store.findCandidates(query)).map((s) => s.profile.id)).toEqual([chatty]);
    expect(await world.store.countAvailable(world.clock.now() - TTL)).toBe(1);

    // Coming back is just a heartbeat.
    await world.engine.setPresence(quiet, "available");
    expect((await world.store.findCandidates(query)).map((s) => s.profile.id).sort()).toEqual([quiet, chatty].sort());
  });

  it("a lapsed advisor is no longer offered requests, and comes back with the next heartbeat", async () => {
    world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL });
    const advisor = await world.addAdvisor();
    await world.engine.setPresence(advisor, "available");
    world.clock.advance(TTL);
    await expireLapsedPresence({ store: world.store, clock: world.clock, presenceTtlMs: TTL });
    const clientId = await world.addClient();
    await world.engine.createRequest({ clientId, topic: "isa", requiredLicence: "fund_sales", channel: "chat", mode: "dispatch", language: "en", priority: 0 });
    expect(world.eventsOf("offer.sent")).toEqual([]);
    await world.engine.setPresence(advisor, "available");
    expect(world.eventsOf("offer.sent").map((e) => (e as { advisorId: string }).advisorId)).toEqual([advisor]);
  });
});

// ---- licence-expiry withdrawal ---------------------------------------------------------------------------

function licenceSuite(name: string, openDatabase: () => Promise<Database>): void {
  describe(name, () => {
    let db: Database;
    beforeAll(async () => {
      db = await openDatabase();
    });
    afterAll(async () => {
      await db?.close();
    });

    const withdrawn = (world: World) => world.eventsOf("offer.withdrawn") as Array<Extract<DomainEvent, { type: "offer.withdrawn" }>>;

    /** A world with `advisors` available advisors and one dispatch request, pushed to the first of them. */
    async function offered(world: World, advisors: string[]): Promise<{ requestId: string; offerId: string; advisorId: string }> {
      for (const id of advisors) await world.engine.setPresence(id, "available");
      const clientId = await world.addClient();
      const created = await world.engine.createRequest({
        clientId,
        topic: "pension",
        requiredLicence: "fund_sales",
        channel: "chat",
        mode: "dispatch",
        language: "en",
        priority: 0,
      });
      if (!created.ok) throw new Error(created.reason);
      const sent = world
        .eventsOf("offer.sent")
        .filter((e) => e.requestId === created.requestId)
        .at(-1) as { offerId: string; advisorId: string };
      return { requestId: created.requestId, ...sent };
    }

    it("withdraws an open offer whose advisor's licence lapsed, frees the push hold, re-syncs the advisor and moves the request on", async () => {
      const world = await createWorld(db, createMemoryMatchingStore());
      const lapsing = await world.addAdvisor({ maxConcurrent: 1 });
      const { requestId, offerId, advisorId } = await offered(world, [lapsing]);
      expect(advisorId).toBe(lapsing);
      expect((await world.store.getAdvisor(lapsing))?.pushHolds).toEqual([offerId]);
      const other = await world.addAdvisor();

      // The directory moves validUntil into the past; the live store has not heard of it.
      await db.prisma.licence.updateMany({ where: { advisorId: lapsing }, data: { validUntil: new Date(world.clock.now() - 1_000) } });
      const result = await withdrawUnlicensedOffers({ engine: world.engine, prisma: db.prisma, clock: world.clock });
      expect(result).toEqual({ found: 1, withdrawn: 1 });

      const request = await world.store.getRequest(requestId);
      expect(request?.offers.find((o) => o.id === offerId)?.outcome).toBe("withdrawn");
      expect(request?.excluded).toEqual([]);
      expect((await db.prisma.offer.findUniqueOrThrow({ where: { id: offerId } })).outcome).toBe("withdrawn");
      expect(withdrawn(world)).toEqual([expect.objectContaining({ offerId, advisorId: lapsing, outcome: "withdrawn", reason: "licence_lapsed" })]);
      const state = await world.store.getAdvisor(lapsing);
      expect(state?.pushHolds).toEqual([]);
      expect(state?.profile.licences[0]?.validUntil).toBe(world.clock.now() - 1_000);
      // The funnel moved on at once, to the advisor who is still licensed, never back to the lapsed one.
      await world.engine.setPresence(other, "available");
      const sentTo = world
        .eventsOf("offer.sent")
        .filter((e) => e.requestId === requestId)
        .map((e) => (e as { advisorId: string }).advisorId);
      expect(sentTo).toEqual([lapsing, other]);

      // Nothing left to do: a second run finds nothing.
      expect(await withdrawUnlicensedOffers({ engine: world.engine, prisma: db.prisma, clock: world.clock })).toEqual({ found: 0, withdrawn: 0 });
    });

    it("also withdraws when the licence is suspended, and leaves offers to licensed advisors alone", async () => {
      const world = await createWorld(db, createMemoryMatchingStore());
      const suspended = await world.addAdvisor({ maxConcurrent: 1 });
      const first = await offered(world, [suspended]);
      const licensed = await world.addAdvisor({
        maxConcurrent: 1,
        licences: [{ kind: "fund_sales" }, { kind: "insurance", validUntil: world.clock.now() - 1 }],
      });
      await world.engine.setPresence(suspended, "away"); // so the second request goes to `licensed`
      const second = await offered(world, [licensed]);
      expect(second.advisorId).toBe(licensed);

      await db.prisma.licence.updateMany({ where: { advisorId: suspended }, data: { status: "suspended" } });
      await withdrawUnlicensedOffers({ engine: world.engine, prisma: db.prisma, clock: world.clock });

      expect(withdrawn(world).map((e) => e.offerId)).toEqual([first.offerId]);
      expect((await world.store.getAdvisor(suspended))?.profile.licences[0]?.status).toBe("suspended");
      expect((await world.store.getRequest(second.requestId))?.offers.map((o) => o.outcome)).toEqual([null]);
    });

    it("a licence lapsing at exactly now counts as lapsed (valid on [validFrom, validUntil))", async () => {
      const world = await createWorld(db, createMemoryMatchingStore());
      const advisor = await world.addAdvisor({ maxConcurrent: 1 });
      const { offerId } = await offered(world, [advisor]);
      await db.prisma.licence.updateMany({ where: { advisorId: advisor }, data: { validUntil: new Date(world.clock.now() + 1) } });
      await withdrawUnlicensedOffers({ engine: world.engine, prisma: db.prisma, clock: world.clock });
      expect(withdrawn(world)).toEqual([]);
      world.clock.advance(1);
      await withdrawUnlicensedOffers({ engine: world.engine, prisma: db.prisma, clock: world.clock });
      expect(withdrawn(world).map((e) => e.offerId)).toEqual([offerId]);
    });

    it("an offer closed in the meantime is left as it is", async () => {
      const world = await createWorld(db, createMemoryMatchingStore());
      const advisor = await world.addAdvisor({ maxConcurrent: 1 });
      const { offerId, requestId } = await offered(world, [advisor]);
      expect((await world.engine.accept(offerId, advisor)).ok).toBe(true);
      expect(await world.engine.withdrawOffer(offerId, "licence_lapsed")).toBe(false);
      expect(await world.engine.withdrawOffer("off_unknown", "licence_lapsed")).toBe(false);
      expect((await world.store.getRequest(requestId))?.status).toBe("assigned");
    });
  });
}

licenceSuite("licence-expiry withdrawal on embedded PGlite", openMigratedPglite);

describeWithServices("licence-expiry withdrawal on PostgreSQL", [await probePostgres()], () => {
  licenceSuite("private database", openScratchPostgres);
});

// ---- the scheduler itself ------------------------------------------------------------------------------

describe("scheduler (memory store: the one process leads)", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openMigratedPglite();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("runs the jobs on schedule, logging each run's duration at debug and a failure at error", async () => {
    const world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL });
    const advisor = await world.addAdvisor();
    await world.engine.setPresence(advisor, "available");
    world.clock.advance(TTL);
    const healthy = capturingLogger();
    const failing = capturingLogger();
    const broken: MatchingStore = { ...createMemoryMatchingStore(), findLapsedAdvisors: async () => Promise.reject(new Error("ECONNREFUSED")) };
    const deps = { engine: world.engine, prisma: db.prisma, clock: world.clock, presenceTtlMs: TTL };
    const jobs = [startJobs({ ...deps, store: world.store, logger: healthy.logger }), startJobs({ ...deps, store: broken, logger: failing.logger })];
    try {
      await vi.waitFor(() => expect(jobs.every((j) => j.isLeader())).toBe(true), { timeout: 2_000 });
      // presence-expiry runs every 5 s.
      await vi.waitFor(() => expect(healthy.entries.some((e) => e.job === "presence-expiry" && e.msg === "job finished")).toBe(true), {
        timeout: 8_000,
        interval: 100,
      });
      const run = healthy.entries.find((e) => e.job === "presence-expiry" && e.msg === "job finished")!;
      expect(run).toMatchObject({ level: 20, expired: 1 });
      expect(run.durationMs).toBeTypeOf("number");
      expect((await world.store.getAdvisor(advisor))?.supply.presence).toBe("offline");

      await vi.waitFor(() => expect(failing.entries.some((e) => e.job === "presence-expiry" && e.msg === "job failed")).toBe(true), {
        timeout: 2_000,
        interval: 100,
      });
      expect(failing.entries.find((e) => e.msg === "job failed")).toMatchObject({ level: 50, err: expect.objectContaining({ message: "ECONNREFUSED" }) });
    } finally {
      await Promise.all(jobs.map((j) => j.stop()));
    }
    expect(jobs.some((j) => j.isLeader())).toBe(false);
  }, 20_000);

  it("never overlaps a job with itself: a slow run makes the next ticks no-ops", async () => {
    const world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL });
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const slow: MatchingStore = {
      ...world.store,
      findLapsedAdvisors: async () => {
        runs++;
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        await sleep(6_000); // longer than the 5 s schedule
        concurrent--;
        return [];
      },
    };
    const jobs = startJobs({ engine: world.engine, store: slow, prisma: db.prisma, logger: silent, clock: world.clock, presenceTtlMs: TTL });
    try {
      await vi.waitFor(() => expect(runs).toBeGreaterThanOrEqual(1), { timeout: 7_000, interval: 100 });
      await sleep(5_500); // at least one more tick while the first run is still going
      expect(maxConcurrent).toBe(1);
    } finally {
      await jobs.stop(); // waits for the run in progress
    }
    expect(concurrent).toBe(0);
  }, 30_000);
});

/**
 * The decision journal and its persisters (issue 12): the journal contract on both adapters, the
 * record's monotonic, idempotent writes, and the engine under faults at each boundary (failpoints):
 * after the store's decision and before its journal entry; a persister dying mid-batch (committed,
 * not acknowledged); the database refusing writes. After recovery, for each: 0 lost requests,
 * 0 double assignments, 0 capacity overruns, and the live store and PostgreSQL agree on every
 * request (the consistency checker, field by field). On PGlite + memory and PostgreSQL + Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { armFailpoint, disarmFailpoints, type FailpointName } from "../../core/failpoints.ts";
import type { Database } from "../../platform/database.ts";
import { classifyUnavailable } from "../../platform/unavailable.ts";
import type { RedisClient } from "../../platform/redis.ts";
import { createMemoryJournal } from "../../matching/journal/memory.ts";
import { Persister } from "../../matching/journal/persister.ts";
import type { Journal, JournalEntry } from "../../matching/journal/port.ts";
import { journalRecorder } from "../../matching/journal/recorder.ts";
import { createRedisJournal } from "../../matching/journal/redis.ts";
import { createPrismaMatchingRecords } from "../../matching/records/prisma.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { checkConsistency } from "../../matching/records/consistency.ts";
import { expectConsistent } from "../support/consistency.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, testKeyPrefix, uniqueTag } from "../support/services.ts";
import { connectTestRedis, openTestRedisStore } from "./support/redisStores.ts";
import { createWorld, type World, requestInput } from "./support/world.ts";

function entry(requestId: string, rev: number): JournalEntry {
  return { requestId, rev, request: { rev } as never, stage: null, offers: [], events: [] };
}

function journalContract(name: string, open: () => Promise<{ journal: Journal; close(): Promise<void> }>) {
  describe(`${name}: the journal contract`, () => {
    let journal: Journal;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ journal, close } = await open());
    });
    afterAll(async () => close?.());

    it("gives entries in order to one consumer, gives them again until acknowledged, and counts the lag", async () => {
      const ids = [await journal.append(entry("req_a", 1)), await journal.append(entry("req_a", 2)), await journal.append(entry("req_b", 1))];
      expect((await journal.lag(Date.now())).entries).toBe(3);
      const first = await journal.take("c1", 2, 60_000);
      expect(first.map((d) => d.id)).toEqual(ids.slice(0, 2));
      expect(first.map((d) => [d.entry.requestId, d.entry.rev])).toEqual([
        ["req_a", 1],
        ["req_a", 2],
      ]);
      // Not acknowledged: the same consumer is given them again (a failed batch is retried), nobody else.
      expect((await journal.take("c1", 10, 60_000)).map((d) => d.id)).toEqual(ids.slice(0, 2));
      expect((await journal.take("c2", 10, 60_000)).map((d) => d.id)).toEqual([ids[2]]);
      await journal.ack(ids);
      await journal.ack(ids); // idempotent
      expect(await journal.lag(Date.now())).toEqual({ entries: 0, oldestMs: 0 });
      expect(await journal.take("c1", 10, 60_000)).toEqual([]);
    });

    it("hands an entry held too long by a consumer (it died) to another", async () => {
      const id = await journal.append(entry("req_c", 1));
      expect((await journal.take("dead", 10, 60_000)).map((d) => d.id)).toEqual([id]);
      expect(await journal.take("alive", 10, 60_000)).toEqual([]);
      await new Promise((r) => setTimeout(r, 30));
      expect((await journal.take("alive", 10, 20)).map((d) => d.id)).toEqual([id]);
      await journal.ack([id]);
    });

    it("announces persisted ids to every listener", async () => {
      const heard: string[][] = [];
      const stop = await journal.onPersisted((ids) => heard.push(ids));
      await journal.announcePersisted(["1-1", "1-2"]);
      for (let i = 0; i < 50 && !heard.length; i++) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toEqual([["1-1", "1-2"]]);
      await stop();
    });
  });
}

journalContract("memory", async () => ({ journal: createMemoryJournal(), close: async () => {} }));

describeWithServices("redis journal", [await probeRedis()], () => {
  journalContract("redis", async () => {
    const client = await connectTestRedis();
    const journal = await createRedisJournal(client, { prefix: testKeyPrefix() });
    return {
      journal,
      async close() {
        await journal.close();
        await client.quit();
      },
    };
  });

  it("recovers when Redis lost the stream and its group", async () => {
    const client = await connectTestRedis();
    const prefix = testKeyPrefix();
    const journal = await createRedisJournal(client, { prefix });
    try {
      await journal.append(entry("req_x", 1));
      await client.del(`${prefix}journal`);
      expect(await journal.take("c", 10, 1_000)).toEqual([]);
      const id = await journal.append(entry("req_x", 2));
      expect((await journal.take("c", 10, 1_000)).map((d) => d.id)).toEqual([id]);
    } finally {
      await client.del(`${prefix}journal`);
      await journal.close();
      await client.quit();
    }
  });
});

/** A world whose engine records through a journal and a running persister, as a server's does. */
async function journaledWorld(db: Database, store: MatchingStore, journal: Journal) {
  const records = createPrismaMatchingRecords(db);
  const persister = new Persister({
    journal,
    apply: (d) => records.applyJournal(d),
    consumer: `test-${uniqueTag()}`,
    pollMs: 20,
    idleMs: 200,
    isTransient: (error) => classifyUnavailable(error) !== null,
  });
  await persister.start();
  const recorder = journalRecorder({ journal, persister, waitMs: 100, maxLagEntries: 10_000, maxLagMs: 60_000 });
  const w = await createWorld(db, store, { presenceTtlMs: 3_600_000, recorder });
  return { w, persister, records };
}

/** Waits until the journal is empty (everything persisted). */
async function settle(journal: Journal, persister: Persister) {
  for (let i = 0; i < 200; i++) {
    await persister.drainOnce().catch(() => {});
    if ((await journal.lag(Date.now())).entries === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`journal not drained: ${JSON.stringify(await journal.lag(Date.now()))}`);
}

/**
 * A mixed workload: requests created, offered, accepted, declined, completed and cancelled, the
 * clock moving so offers time out. Calls that fail (a failpoint) are counted, as an API would answer 503.
 */
async function workload(w: World, advisors: string[], rounds: number) {
  const created: string[] = [];
  let failed = 0;
  const attempt = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      if (!/failpoint|ECONNREFUSED/.test(String((error as Error).message))) throw error;
      failed++;
      return undefined;
    }
  };
  for (let round = 0; round < rounds; round++) {
    w.clock.advance(700);
    const client = await w.addClient();
    const made = await attempt(() =>
      w.engine.createRequest({
        clientId: client,
        topic: "t",
        requiredLicence: "fund_sales",
        channel: "chat",
        mode: round % 3 === 2 ? "grab" : "dispatch",
        language: null,
        priority: 0,
      }),
    );
    if (made?.ok) created.push(made.requestId);
    for (const id of created.slice(-4)) {
      const request = await w.store.getRequest(id);
      const open = request?.offers.filter((o) => o.outcome === null) ?? [];
      const offer = open[round % Math.max(1, open.length)];
      if (offer && round % 4 === 1) await attempt(() => w.engine.decline(offer.id, offer.advisorId));
      else if (offer) await attempt(() => w.engine.accept(offer.id, offer.advisorId));
      else if (request?.status === "assigned" && round % 2 === 0) await attempt(() => w.engine.complete(id, request.assignedAdvisorId!));
      else if (request && (request.status === "pending" || request.status === "offered") && round % 5 === 4)
        await attempt(() => w.engine.cancel(id, request.facts.clientId));
    }
    await attempt(() => w.engine.tick());
  }
  return { created, failed, advisors };
}

function faultSuite(
  name: string,
  openDatabase: () => Promise<Database>,
  openStore: () => Promise<{ store: MatchingStore; journal: Journal; close(): Promise<void> }>,
) {
  describe(`${name}: decisions under faults reach the record exactly once`, () => {
    let db: Database;
    let opened: { store: MatchingStore; journal: Journal; close(): Promise<void> };
    beforeAll(async () => {
      db = await openDatabase();
      opened = await openStore();
    });
    afterAll(async () => {
      disarmFailpoints();
      await opened?.close();
      await db?.close();
    });
    afterEach(() => disarmFailpoints());

    const cases: Array<{ failpoint: FailpointName; every: number; message?: string; code?: string; what: string }> = [
      { failpoint: "engine.after-decision", every: 3, what: "a third of the decisions lose their journal entry (the process died after the store decided)" },
      { failpoint: "persister.before-ack", every: 2, what: "persisters die mid-batch: committed, not acknowledged, taken again" },
      {
        failpoint: "records.apply",
        every: 1,
        message: "connect ECONNREFUSED 127.0.0.1:5432 (failpoint)",
        code: "ECONNREFUSED",
        what: "the database refuses every write for a while",
      },
    ];

    for (const c of cases) {
      it(`${c.failpoint}: ${c.what}`, async () => {
        const { w, persister } = await journaledWorld(db, opened.store, opened.journal);
        try {
          const advisors: string[] = [];
          for (let i = 0; i < 4; i++) advisors.push(await w.addAdvisor({ maxConcurrent: 2 }));
          for (const id of advisors) await w.engine.setPresence(id, "available");
          let calls = 0;
          armFailpoint(c.failpoint, { when: () => ++calls % c.every === 0, ...(c.message ? { message: c.message } : {}), ...(c.code ? { code: c.code } : {}) });
          const run = await workload(w, advisors, 24);
          disarmFailpoints();
          expect(run.created.length, "requests were created under the fault").toBeGreaterThan(5);
          if (c.failpoint === "engine.after-decision") expect(run.failed, "the fault fired").toBeGreaterThan(0);

          // Recovery: the persisters drain the journal, and the reconciler repairs what never reached it.
          await settle(opened.journal, persister);
          w.clock.advance(60_000);
          // Small pages, so repairs fall on several pages of the pass.
          await w.engine.reconcile({ graceMs: 0, pageSize: 7 });
          await settle(opened.journal, persister);

          const report = await expectConsistent({ prisma: db.prisma, store: opened.store, now: w.clock.now(), settleMs: 3_600_000 });
          expect(report.requests).toBeGreaterThan(0);
          // 0 lost: every request a client was given an id for is in both stores.
          const rows = await db.prisma.serviceRequest.findMany({ where: { id: { in: run.created } }, select: { id: true, liveRev: true } });
          expect(rows.length).toBe(run.created.length);
          for (const id of run.created) expect(await opened.store.getRequest(id), id).not.toBeNull();
          // Exactly once: no event recorded twice for one offer and kind, no connection twice.
          const events = await db.prisma.eventLog.findMany({ where: { requestId: { in: run.created } }, select: { type: true, data: true } });
          const perOffer = new Map<string, number>();
          for (const e of events) {
            const offerId = (e.data as { offerId?: string }).offerId;
            if (offerId) perOffer.set(`${e.type}:${offerId}`, (perOffer.get(`${e.type}:${offerId}`) ?? 0) + 1);
          }
          expect([...perOffer].filter(([, n]) => n > 1)).toEqual([]);
          const assigned = await db.prisma.serviceRequest.count({ where: { id: { in: run.created }, assignedAdvisorId: { not: null } } });
          if (c.failpoint !== "engine.after-decision") expect(assigned).toBeGreaterThan(0);
        } finally {
          disarmFailpoints();
          await persister.stop();
        }
      });
    }

    it("releases capacity slots an interrupted accept or offer left held for nothing, after the grace period", async () => {
      const { w, persister } = await journaledWorld(db, opened.store, opened.journal);
      try {
        const advisor = await w.addAdvisor({ maxConcurrent: 2 });
        const other = await w.addAdvisor({ maxConcurrent: 2 });
        await w.engine.setPresence(other, "available");
        const made = await w.engine.createRequest(requestInput(await w.addClient()));
        if (!made.ok) throw new Error(made.reason);
        await w.engine.setPresence(advisor, "available");
        const request = (await opened.store.getRequest(made.requestId))!;
        // A process died after taking the advisor's slot and before claiming the request; another
        // died after holding a push slot and before recording the offer.
        const now = w.clock.now();
        expect((await opened.store.takeAssignment(advisor, request.facts, "off_lost", now, 3_600_000)).ok).toBe(true);
        const lostOffer = `off_${made.requestId.slice(4)}_01ke6p4zzrc7cc3j8gz1c3cywp`;
        expect((await opened.store.holdPushSlot(advisor, request.facts, lostOffer, now, 3_600_000)).ok).toBe(true);
        expect((await opened.store.getAdvisor(advisor))!.supply).toMatchObject({ active: 1, pendingPush: 1 });

        const first = await w.engine.reconcileSupply({ graceMs: 10_000 });
        expect(first).toMatchObject({ suspect: 2, released: 0 });
        w.clock.advance(5_000);
        expect(await w.engine.reconcileSupply({ graceMs: 10_000 })).toMatchObject({ suspect: 2, released: 0 });
        w.clock.advance(5_000);
        expect(await w.engine.reconcileSupply({ graceMs: 10_000 })).toMatchObject({ suspect: 2, released: 2 });
        expect((await opened.store.getAdvisor(advisor))!.supply).toMatchObject({ active: 0, pendingPush: 0 });
        // Slots that are right are never suspects.
        expect(await w.engine.reconcileSupply({ graceMs: 0 })).toMatchObject({ released: 0 });
        await settle(opened.journal, persister);
        await expectConsistent({ prisma: db.prisma, store: opened.store, now: w.clock.now() });
      } finally {
        await persister.stop();
      }
    });

    it("restores a pending request the record has and the live store never heard of (its creation timed out after the commit)", async () => {
      const { w, persister, records } = await journaledWorld(db, opened.store, opened.journal);
      try {
        const advisor = await w.addAdvisor();
        await w.engine.setPresence(advisor, "available");
        const clientId = await w.addClient();
        const now = w.clock.now();
        const client = (await records.clientContext(clientId))!;
        const id = `req_${uniqueTag()}`.padEnd(30, "0");
        const facts = {
          id,
          clientId,
          branchId: client.branchId,
          region: client.region,
          requiredLicence: "fund_sales" as const,
          riskLevel: client.riskLevel,
          language: null,
          priority: 0,
          dedicatedAdvisorId: null,
          mode: "dispatch" as const,
          createdAt: now,
        };
        await records.insertRequest({ facts, topic: "t", channel: "chat", stageIndex: 0, stage: "dedicated", idempotencyKey: null, requestHash: null }, []);
        expect(await opened.store.getRequest(id)).toBeNull();
        // Young: a creation may be in progress, so it is left alone.
        expect(await w.engine.reconcile({ graceMs: 10_000 })).toMatchObject({ missing: 1, restored: 0 });
        w.clock.advance(10_000);
        expect(await w.engine.reconcile({ graceMs: 10_000 })).toMatchObject({ missing: 1, restored: 1 });
        // Its timer lost (as a command cut off by a Redis stall can leave it): made due again.
        await opened.store.clearDeadline(id);
        w.clock.advance(10_000);
        expect(await w.engine.reconcile({ graceMs: 10_000 })).toMatchObject({ rescheduled: 1 });
        expect(await opened.store.getDeadline(id)).toBe(w.clock.now());
        await w.engine.tick();
        const restored = (await opened.store.getRequest(id))!;
        expect(restored.offers.map((o) => o.advisorId)).toEqual([advisor]);
        await settle(opened.journal, persister);
        await expectConsistent({ prisma: db.prisma, store: opened.store, now: w.clock.now() });
      } finally {
        await persister.stop();
      }
    });

    it("makes a request due again whose open offer expired while its deadline stayed later (overwritten by an overlapping pass)", async () => {
      const { w, persister } = await journaledWorld(db, opened.store, opened.journal);
      try {
        const advisor = await w.addAdvisor();
        await w.engine.setPresence(advisor, "available");
        const made = await w.engine.createRequest(requestInput(await w.addClient()));
        if (!made.ok) throw new Error(made.reason);
        const offer = (await opened.store.getRequest(made.requestId))!.offers.find((o) => o.outcome === null)!;
        expect(await opened.store.getDeadline(made.requestId)).toBe(offer.expiresAt);
        // Two passes over one request overlap (a wake makes it due while a slow pass runs); the one
        // that read it before the offer was made writes its later deadline last: the request's
        // overall wait, as when it waits in the queue with nobody free.
        await opened.store.setDeadline(made.requestId, w.clock.now() + 600_000);
        w.clock.advance(offer.expiresAt - w.clock.now() + 10_000);
        await w.engine.tick();
        expect((await opened.store.getRequest(made.requestId))!.offers.find((o) => o.id === offer.id)!.outcome, "not due, so still open").toBeNull();
        const late = await checkConsistency({ prisma: db.prisma, store: opened.store, now: w.clock.now(), settleMs: 5_000 });
        expect(late.violations.map((v) => v.detail).filter((d) => d.includes(made.requestId))).toEqual([
          `open offer ${offer.id} (${made.requestId}) expired 10000 ms ago`,
        ]);

        expect(await w.engine.reconcile({ graceMs: 10_000 })).toMatchObject({ rescheduled: 1 });
        expect(await opened.store.getDeadline(made.requestId)).toBe(w.clock.now());
        await w.engine.tick();
        const moved = (await opened.store.getRequest(made.requestId))!;
        expect(moved.offers.find((o) => o.id === offer.id)!.outcome).toBe("timed_out");
        // A deadline no later than the open offers' expiry is the funnel's own: left alone.
        const own = await opened.store.getDeadline(made.requestId);
        w.clock.advance(10_000);
        await w.engine.reconcile({ graceMs: 10_000 });
        expect(await opened.store.getDeadline(made.requestId)).toBe(own);
        await settle(opened.journal, persister);
        await expectConsistent({ prisma: db.prisma, store: opened.store, now: w.clock.now(), settleMs: 5_000 });
      } finally {
        await persister.stop();
      }
    });

    it("applies decisions in any order and twice, keeping the highest revision", async () => {
      const { w, persister, records } = await journaledWorld(db, opened.store, opened.journal);
      try {
        const advisor = await w.addAdvisor();
        await w.engine.setPresence(advisor, "available");
        const made = await w.engine.createRequest(requestInput(await w.addClient()));
        if (!made.ok) throw new Error(made.reason);
        await settle(opened.journal, persister);
        const offered = (await opened.store.getRequest(made.requestId))!;
        const offer = offered.offers[0]!;
        expect(await w.engine.accept(offer.id, advisor)).toMatchObject({ ok: true });
        await settle(opened.journal, persister);
        const assigned = (await opened.store.getRequest(made.requestId))!;
        const row = () => db.prisma.serviceRequest.findUniqueOrThrow({ where: { id: made.requestId }, select: { status: true, liveRev: true } });
        expect(await row()).toEqual({ status: "assigned", liveRev: assigned.rev });
        // An older decision arriving late, and the newer one again: nothing moves back, nothing doubles.
        await records.applyJournal([
          { requestId: made.requestId, rev: offered.rev, request: offered, stage: "dedicated", offers: [{ offer, stage: "dedicated" }], events: [] },
        ]);
        await records.applyJournal([
          {
            requestId: made.requestId,
            rev: assigned.rev,
            request: assigned,
            stage: "dedicated",
            offers: [{ offer: assigned.offers[0]!, stage: "dedicated" }],
            events: [],
          },
        ]);
        expect(await row()).toEqual({ status: "assigned", liveRev: assigned.rev });
        expect((await db.prisma.offer.findUniqueOrThrow({ where: { id: offer.id } })).outcome).toBe("accepted");
        expect(await db.prisma.connection.count({ where: { requestId: made.requestId } })).toBe(1);
        await expectConsistent({ prisma: db.prisma, store: opened.store, now: w.clock.now() });
      } finally {
        await persister.stop();
      }
    });
  });
}

faultSuite("PGlite + memory", openMigratedPglite, async () => ({ store: createMemoryMatchingStore(), journal: createMemoryJournal(), close: async () => {} }));

describeWithServices("journal under faults on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  faultSuite("PostgreSQL + Redis", openScratchPostgres, async () => {
    const prefix = testKeyPrefix();
    const store = await openTestRedisStore(prefix);
    // A live state that exists (as after a start's rebuild), so fenced decisions run.
    await store.setGeneration("test");
    const client: RedisClient = await connectTestRedis();
    const journal = await createRedisJournal(client, { prefix });
    return {
      store,
      journal,
      async close() {
        await journal.close();
        await client.del(`${prefix}journal`);
        await client.quit();
        await store.close();
      },
    };
  });
});

/**
 * Losing the live state (issue 12, "Redis state lost"), below the API:
 *  - the journal hands every pending entry to a rebuild, whoever holds it (take with idleMs 0,
 *    Persister.drainAll), on both adapters, and tells an entry still waiting from one that was lost;
 *  - a decision whose journal entry was lost with Redis is not answered as if it stood;
 *  - on Redis + PostgreSQL: while the generation is missing every decision throws
 *    LiveStateUnavailableError (a heartbeat neither recreates its advisor nor is forgotten); the
 *    rebuild persists the journal before reading the record, so it never reverts an accept still in
 *    the journal (the double assignment of the issue); afterwards each engine re-applies the
 *    presences reported to it, its own rebuild or another's, and an accept by an advisor whose
 *    presence is not known yet is told to retry rather than NOT_ELIGIBLE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import type { RedisClient } from "../../platform/redis.ts";
import { createMemoryJournal } from "../../matching/journal/memory.ts";
import { Persister } from "../../matching/journal/persister.ts";
import type { Journal, JournalEntry } from "../../matching/journal/port.ts";
import { journalRecorder } from "../../matching/journal/recorder.ts";
import { createRedisJournal } from "../../matching/journal/redis.ts";
import { createPrismaMatchingRecords } from "../../matching/records/prisma.ts";
import { LiveStateUnavailableError, type MatchingStore } from "../../matching/store/port.ts";
import { expectConsistent } from "../support/consistency.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, testKeyPrefix, uniqueTag } from "../support/services.ts";
import { connectTestRedis, openTestRedisStore } from "./support/redisStores.ts";
import { createWorld, type World, requestInput } from "./support/world.ts";

function entry(requestId: string, rev: number): JournalEntry {
  return { requestId, rev, request: { rev } as never, stage: null, offers: [], events: [] };
}

/** Resolves with the error a promise rejects with, or null when it resolves. */
const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

// ---- the journal's part -----------------------------------------------------------------------------

interface OpenedJournal {
  journal: Journal;
  /** Removes an entry the way a Redis loss does: gone, never persisted. */
  lose(id: string): Promise<void>;
  close(): Promise<void>;
}

function journalTakeover(name: string, open: () => Promise<OpenedJournal>) {
  describe(`${name}: the rebuild's takeover of the journal`, () => {
    let opened: OpenedJournal;
    beforeAll(async () => {
      opened = await open();
    });
    afterAll(async () => opened?.close());

    it("take with idleMs 0 takes over entries a live consumer holds; contains() is true until acknowledged", async () => {
      const { journal } = opened;
      const ids = [await journal.append(entry("req_t1", 1)), await journal.append(entry("req_t2", 1))];
      expect((await journal.take("holder", 10, 60_000)).map((d) => d.id)).toEqual(ids);
      // Held, and not for long: another consumer gets nothing with a normal idle time...
      expect(await journal.take("rescuer", 10, 60_000)).toEqual([]);
      // ...and everything with idleMs 0.
      expect((await journal.take("rescuer", 10, 0)).map((d) => d.id)).toEqual(ids);
      expect(await journal.contains(ids[0]!)).toBe(true);
      await journal.ack(ids);
      expect(await journal.contains(ids[0]!)).toBe(false);
      // The former holder's late acknowledgement is harmless.
      await journal.ack(ids);
      expect(await journal.take("holder", 10, 0)).toEqual([]);
    });

    it("Persister.drainAll persists every entry, those another live persister holds included", async () => {
      const { journal } = opened;
      const applied: string[] = [];
      const persister = new Persister({
        journal,
        consumer: `drain-${uniqueTag()}`,
        apply: async (entries) => void applied.push(...entries.map((e) => e.requestId)),
      });
      await journal.append(entry("req_d1", 1));
      await journal.append(entry("req_d2", 1));
      await journal.take("busy-elsewhere", 1, 60_000); // another process is mid-batch with req_d1
      await journal.append(entry("req_d3", 1));
      await persister.drainAll();
      expect(applied.sort()).toEqual(["req_d1", "req_d2", "req_d3"]);
      expect((await journal.lag(Date.now())).entries).toBe(0);
    });

    it("the journal recorder answers once the entry is persisted or still waits in the journal, and refuses when it was lost", async () => {
      const { journal } = opened;
      const persister = new Persister({ journal, consumer: `rec-${uniqueTag()}`, apply: async () => {} });
      const recorder = journalRecorder({ journal, persister, waitMs: 30, maxLagEntries: 100, maxLagMs: 60_000 });
      // Not persisted (nobody runs the persister) but still in the journal: the decision stands.
      await recorder.record(entry("req_waiting", 1));
      await persister.drainAll();

      // Lost with Redis before anyone persisted it: the caller must not be told it stands.
      const losing: Journal = {
        ...journal,
        async append(e) {
          const id = await journal.append(e);
          await opened.lose(id);
          return id;
        },
      };
      const lossy = journalRecorder({ journal: losing, persister, waitMs: 30, maxLagEntries: 100, maxLagMs: 60_000 });
      const error = await failureOf(lossy.record(entry("req_lost", 1)));
      expect(error).toBeInstanceOf(LiveStateUnavailableError);
      expect((error as Error).message).toMatch(/live state unavailable.*journal entry was lost/);
    });
  });
}

journalTakeover("memory journal", async () => {
  const journal = createMemoryJournal();
  // The in-process journal cannot lose an entry; dropping it unpersisted stands in for that.
  return { journal, lose: (id) => journal.ack([id]), close: async () => {} };
});

describeWithServices("redis journal: the rebuild's takeover", [await probeRedis()], () => {
  journalTakeover("redis journal", async () => {
    const client: RedisClient = await connectTestRedis();
    const prefix = testKeyPrefix();
    const journal = await createRedisJournal(client, { prefix });
    return {
      journal,
      // As when Redis loses its data: the stream (and its group) is gone.
      lose: async () => void (await client.del(`${prefix}journal`)),
      async close() {
        await journal.close();
        await client.del(`${prefix}journal`);
        await client.quit();
      },
    };
  });
});

// ---- the engine on Redis + PostgreSQL -----------------------------------------------------------------

describeWithServices("losing the live state on Redis + PostgreSQL", [await probePostgres(), await probeRedis()], () => {
  const TTL = 45_000;
  let db: Database;
  const stores: MatchingStore[] = [];
  beforeAll(async () => {
    // A rebuild reads every live request and advisor: a database of this file's own.
    db = await openScratchPostgres();
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await db?.close();
  });

  /**
   * A world whose engine records through a journal nobody persists until the test (or the
   * rebuild) says so, as a server's whose persister lags; the rebuild drains it first.
   */
  async function lossWorld(presenceTtlMs = TTL, wrap: (store: MatchingStore) => MatchingStore = (store) => store) {
    const store = wrap(await openTestRedisStore(undefined, { live: false }));
    stores.push(store);
    const journal = createMemoryJournal();
    const records = createPrismaMatchingRecords(db);
    const persister = new Persister({ journal, consumer: `engine-${uniqueTag()}`, apply: (entries) => records.applyJournal(entries) });
    const rebuildSaw: Array<{ generation: string | null; leaseFree: boolean }> = [];
    const recorder = journalRecorder({ journal, persister, waitMs: 10, maxLagEntries: 10_000, maxLagMs: 3_600_000 });
    const w = await createWorld(db, store, {
      presenceTtlMs,
      recorder,
      beforeRebuild: async () => {
        rebuildSaw.push({ generation: await store.getGeneration(), leaseFree: await store.acquireLease("rebuild", "someone-else", 1_000) });
        await persister.drainAll();
      },
    });
    // The first look builds the live state (from whatever this file's database holds by now).
    expect(await w.engine.ensureLiveState()).not.toBeNull();
    return { w, store, journal, persister, rebuildSaw };
  }

  const create = async (w: World) => {
    const made = await w.engine.createRequest(requestInput(await w.addClient()));
    if (!made.ok) throw new Error(made.reason);
    return made.requestId;
  };
  const openOfferOf = async (w: World, requestId: string) => (await w.store.getRequest(requestId))!.offers.find((o) => o.outcome === null)!;
  const row = (id: string) => db.prisma.serviceRequest.findUniqueOrThrow({ where: { id }, select: { status: true, assignedAdvisorId: true } });

  it("fences every decision while the generation is missing; the rebuild persists the journal first and never reverts an accept still in it", async () => {
    const { w, store, journal, persister, rebuildSaw } = await lossWorld();
    const [a, b] = [await w.addAdvisor({ maxConcurrent: 1 }), await w.addAdvisor({ maxConcurrent: 1 })];
    await w.engine.setPresence(a, "available");
    const taken = await create(w);
    const offer = await openOfferOf(w, taken);
    expect(offer.advisorId).toBe(a);
    await w.engine.setPresence(b, "available");
    const waiting = await create(w);
    const waitingOffer = await openOfferOf(w, waiting);
    expect(waitingOffer.advisorId).toBe(b);
    await persister.drainAll();

    // a accepts; the entry is appended but not persisted, and another process's persister holds it.
    expect(await w.engine.accept(offer.id, a)).toEqual({ ok: true, requestId: taken, duplicate: false });
    expect((await journal.take("another-process", 100, 60_000)).length).toBeGreaterThan(0);
    expect(await row(taken)).toEqual({ status: "offered", assignedAdvisorId: null });

    // Redis loses everything but the journal survives (it is not always lost with the rest).
    w.clock.advance(1_000);
    await store.reset();
    expect(await store.isLive()).toBe(false);

    // Every decision refuses: 503 material, never NOT_FOUND, UNKNOWN_ADVISOR or NOT_ELIGIBLE.
    const client = await w.addClient();
    const refused = {
      heartbeat: await failureOf(w.engine.setPresence(b, "available")),
      accept: await failureOf(w.engine.accept(waitingOffer.id, b)),
      decline: await failureOf(w.engine.decline(waitingOffer.id, b)),
      complete: await failureOf(w.engine.complete(taken, a)),
      cancel: await failureOf(w.engine.cancel(waiting, (await w.store.getRequest(waiting))?.facts.clientId ?? "cli_x")),
      create: await failureOf(
        w.engine.createRequest({ clientId: client, topic: "t", requiredLicence: "fund_sales", channel: "chat", mode: "dispatch", language: null, priority: 0 }),
      ),
    };
    for (const [what, error] of Object.entries(refused)) {
      expect(error, what).toBeInstanceOf(LiveStateUnavailableError);
    }
    // The heartbeat did not recreate b (with no assignments, no holds); nothing was created.
    expect(await store.getAdvisor(b)).toBeNull();
    expect(await db.prisma.serviceRequest.count({ where: { clientId: client } })).toBe(0);
    // The sweeper finds nothing due rather than failing.
    expect(await w.engine.tick()).toBe(0);

    expect(await w.engine.ensureLiveState()).not.toBeNull();
    // Under the lease, before the new generation, the journal was persisted.
    expect(rebuildSaw.at(-1)).toEqual({ generation: null, leaseFree: false });
    expect((await journal.lag(Date.now())).entries).toBe(0);
    expect(await row(taken)).toEqual({ status: "assigned", assignedAdvisorId: a });

    // The accept stands in the rebuilt state: a holds its one slot, b's push hold is back.
    expect(await store.getRequest(taken)).toMatchObject({ status: "assigned", assignedAdvisorId: a });
    expect((await store.getAdvisor(a))!.assignments).toEqual([taken]);
    expect((await store.getAdvisor(b))!.pushHolds).toEqual([waitingOffer.id]);
    // Presences came back from this engine's memory: b's from the heartbeat refused during the loss.
    expect((await store.getAdvisor(b))!.supply).toMatchObject({ presence: "available", heartbeatAt: w.clock.now() });
    expect((await store.getAdvisor(a))!.supply.presence).toBe("available");

    // Decisions go on: b takes the waiting request, a completes.
    expect(await w.engine.accept(waitingOffer.id, b)).toEqual({ ok: true, requestId: waiting, duplicate: false });
    expect(await w.engine.complete(taken, a)).toEqual({ ok: true, duplicate: false });
    await persister.drainAll();
    await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
  });

  it("every engine re-applies the presences reported to it after a rebuild another one did; until then an accept waits (503), then succeeds", async () => {
    const { w, store, persister } = await lossWorld();
    const other = w.peer(); // a second server process on the same store and database
    const [a, c] = [await w.addAdvisor({ maxConcurrent: 1 }), await w.addAdvisor({ maxConcurrent: 1 })];
    expect(await other.ensureLiveState()).toBeNull(); // it has seen the current generation
    await other.setPresence(c, "available"); // c's heartbeats go to the other process
    const forC = await create(w);
    const offer = await openOfferOf(w, forC);
    expect(offer.advisorId).toBe(c);
    await w.engine.setPresence(a, "available");
    w.clock.advance(2_000);
    const lapsedReport = w.clock.now();
    await persister.drainAll();

    await store.reset();
    expect(await w.engine.ensureLiveState()).not.toBeNull();
    // This engine re-applied a's presence; c's lives in the other process's memory only.
    expect((await store.getAdvisor(a))!.supply.presence).toBe("available");
    expect((await store.getAdvisor(c))!.supply).toMatchObject({ presence: "offline", heartbeatAt: 0 });

    // c's accept through this process: their presence is not known yet, so retry (503), not NOT_ELIGIBLE.
    expect(await failureOf(w.engine.accept(offer.id, c))).toBeInstanceOf(LiveStateUnavailableError);
    // The other process notices the new generation on its next check and re-applies c's presence.
    expect(await other.ensureLiveState()).toBeNull();
    expect((await store.getAdvisor(c))!.supply).toMatchObject({ presence: "available", heartbeatAt: lapsedReport - 2_000 });
    expect(await w.engine.accept(offer.id, c)).toEqual({ ok: true, requestId: forC, duplicate: false });
    await persister.drainAll();
    await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
  });

  it("re-applies only reports younger than the presence TTL, never over a newer heartbeat; an accept through the advisor's own process re-applies theirs", async () => {
    const { w, store, persister } = await lossWorld();
    const [old, fresh, moved] = [await w.addAdvisor(), await w.addAdvisor(), await w.addAdvisor()];
    await w.engine.setPresence(old, "available");
    w.clock.advance(TTL - 5_000);
    const freshAt = w.clock.now();
    await w.engine.setPresence(fresh, "available");
    w.clock.advance(10_000); // old's report is now past the TTL
    const made = await create(w);
    const offer = await openOfferOf(w, made);
    expect(offer.advisorId).toBe(fresh);
    await w.engine.setPresence(moved, "available");
    await persister.drainAll();

    await store.reset();
    const other = w.peer();
    expect(await other.ensureLiveState()).not.toBeNull(); // the other process rebuilds
    w.clock.advance(1_000);
    const movedAt = w.clock.now();
    await other.setPresence(moved, "away"); // moved's next heartbeat went to the other process

    // Before this engine notices the rebuild, fresh accepts through it: it re-applies their report.
    expect((await store.getAdvisor(fresh))!.supply.presence).toBe("offline");
    expect(await w.engine.accept(offer.id, fresh)).toEqual({ ok: true, requestId: made, duplicate: false });
    expect((await store.getAdvisor(fresh))!.supply).toMatchObject({ presence: "available", heartbeatAt: freshAt, active: 1 });

    // Noticing the new generation, it re-applies the rest: not old (lapsed), not moved (newer in the store).
    expect(await w.engine.ensureLiveState()).toBeNull();
    expect((await store.getAdvisor(old))!.supply).toMatchObject({ presence: "offline", heartbeatAt: 0 });
    expect((await store.getAdvisor(moved))!.supply).toMatchObject({ presence: "away", heartbeatAt: movedAt });
    await persister.drainAll();
    await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
  });

  it("an accept refused just before another process re-applies the advisor's presence answers retry (503), never NOT_ELIGIBLE; the retry succeeds", async () => {
    // What runs between the store's refusal of an accept and the engine's next read: here, the
    // other process noticing the rebuild, as it does every second (seen under CPU contention).
    let between: (() => Promise<unknown>) | null = null;
    const { w, store, persister } = await lossWorld(TTL, (inner) =>
      Object.assign(Object.create(inner) as MatchingStore, {
        async acceptOffer(...args: Parameters<MatchingStore["acceptOffer"]>) {
          const result = await inner.acceptOffer(...args);
          const run = between;
          between = null;
          if (run && !result.ok && result.reason === "PRESENCE") await run();
          return result;
        },
      }),
    );
    const other = w.peer();
    const c = await w.addAdvisor({ maxConcurrent: 1 });
    expect(await other.ensureLiveState()).toBeNull();
    await other.setPresence(c, "available"); // c's heartbeats go to the other process
    const made = await create(w);
    const offer = await openOfferOf(w, made);
    await persister.drainAll();
    await store.reset();
    expect(await w.engine.ensureLiveState()).not.toBeNull();
    expect((await store.getAdvisor(c))!.supply).toMatchObject({ presence: "offline", heartbeatAt: 0 });

    let replayed = false;
    between = async () => {
      await other.ensureLiveState();
      replayed = true;
    };
    // The refusing read saw c restored and unheard from: unknown, so retry, whatever is known since.
    expect(await failureOf(w.engine.accept(offer.id, c))).toBeInstanceOf(LiveStateUnavailableError);
    expect(replayed, "the other process re-applied c's presence between the refusal and the engine's check").toBe(true);
    expect(await w.engine.accept(offer.id, c)).toEqual({ ok: true, requestId: made, duplicate: false });
    await persister.drainAll();
    await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
  });

  it("an action or sweep whose read found nothing in the lost state answers retry (503), never NOT_FOUND, and clears no deadline, even when the rebuild ends before it answers", async () => {
    // What runs between a request read that found nothing and the engine's answer: here, the
    // rebuild (another process's, or this one's own sweep), as it can under load (seen once in the
    // API's Redis-loss test as a 404 for a complete).
    let between: (() => Promise<unknown>) | null = null;
    let afterClaim: (() => Promise<unknown>) | null = null;
    const afterRead = async <T>(result: T, found: boolean): Promise<T> => {
      const run = between;
      between = null;
      if (run && !found) await run();
      return result;
    };
    const { w, store, persister } = await lossWorld(TTL, (inner) =>
      Object.assign(Object.create(inner) as MatchingStore, {
        async getRequest(requestId: string) {
          const request = await inner.getRequest(requestId);
          return afterRead(request, request !== null);
        },
        async lookupRequest(requestId: string) {
          const read = await inner.lookupRequest(requestId);
          return afterRead(read, read.request !== null);
        },
        async claimDueDeadlines(...args: Parameters<MatchingStore["claimDueDeadlines"]>) {
          const due = await inner.claimDueDeadlines(...args);
          const lose = afterClaim;
          afterClaim = null;
          if (lose) await lose();
          return due;
        },
      }),
    );
    const a = await w.addAdvisor({ maxConcurrent: 2 });
    await w.engine.setPresence(a, "available");
    const assigned = await create(w);
    expect(await w.engine.accept((await openOfferOf(w, assigned)).id, a)).toMatchObject({ ok: true });
    const offered = await create(w);
    const offer = await openOfferOf(w, offered);
    expect(offer.advisorId).toBe(a);
    const clientId = (await store.getRequest(offered))!.facts.clientId;
    await persister.drainAll();

    const actions: Array<[string, () => Promise<unknown>]> = [
      ["complete", () => w.engine.complete(assigned, a)],
      ["cancel", () => w.engine.cancel(offered, clientId)],
      ["accept", () => w.engine.accept(offer.id, a)],
      ["decline", () => w.engine.decline(offer.id, a)],
      ["withdraw", () => w.engine.withdrawOffer(offer.id, "test")],
      ["redispatch", () => w.engine.redispatch(assigned, a, "test")],
    ];
    for (const [what, action] of actions) {
      await store.reset();
      let rebuilt = false;
      between = async () => {
        rebuilt = (await w.engine.ensureLiveState()) !== null;
      };
      const error = await failureOf(action());
      expect(rebuilt, `${what}: the rebuild ran between the read and the answer`).toBe(true);
      expect(error, what).toBeInstanceOf(LiveStateUnavailableError);
    }
    // Nothing was decided meanwhile; the retries find the restored requests and succeed.
    expect(await store.getRequest(assigned)).toMatchObject({ status: "assigned", assignedAdvisorId: a });
    expect(await store.getDeadline(offered)).not.toBeNull();
    expect(await w.engine.accept(offer.id, a)).toEqual({ ok: true, requestId: offered, duplicate: false });
    expect(await w.engine.complete(assigned, a)).toEqual({ ok: true, duplicate: false });

    // The sweep: the state is lost after it claimed a due request and before its pass read it, and
    // rebuilt before the pass answers. The pass must not clear the deadline the rebuild set.
    const due = await create(w);
    expect((await openOfferOf(w, due)).advisorId).toBe(a);
    await persister.drainAll();
    w.clock.advance(10 * 60_000);
    let rebuilt = false;
    afterClaim = async () => {
      await store.reset();
      between = async () => {
        rebuilt = (await w.engine.ensureLiveState()) !== null;
      };
    };
    expect(await w.engine.tick()).toBe(1);
    expect(rebuilt, "the sweep's pass read the lost state, then the rebuild ran").toBe(true);
    expect(await store.getDeadline(due), "the restored request keeps its deadline").not.toBeNull();
    // The next sweep runs its funnel: the offer times out (and the request moves on).
    expect(await w.engine.tick()).toBe(1);
    expect((await store.getRequest(due))!.offers[0]!.outcome).toBe("timed_out");
    await persister.drainAll();
    await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
  });

  it("an advisor still unheard from a presence TTL after the rebuild is offline again: NOT_ELIGIBLE", async () => {
    const { w, store } = await lossWorld(5_000);
    const other = w.peer();
    const c = await w.addAdvisor({ maxConcurrent: 1 });
    expect(await other.ensureLiveState()).toBeNull();
    await other.setPresence(c, "available");
    const made = await create(w);
    const offer = await openOfferOf(w, made);
    await store.reset();
    expect(await w.engine.ensureLiveState()).not.toBeNull();
    expect(await failureOf(w.engine.accept(offer.id, c))).toBeInstanceOf(LiveStateUnavailableError);
    // The other process never came back (it died): once the TTL has passed, "offline" is the answer.
    w.clock.advance(6_000);
    expect(await w.engine.accept(offer.id, c)).toEqual({ ok: false, reason: "NOT_ELIGIBLE" });
  });
});

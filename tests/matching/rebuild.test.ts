/**
 * Losing the live store mid-flow: the state is rebuilt from the database, and open requests carry on
 * to a correct end (an accept, a completion, a timeout through the funnel to a callback).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis } from "../support/services.ts";
import { openTestRedisStore } from "./support/redisStores.ts";
import { createWorld, requestInput } from "./support/world.ts";

function rebuildContract(name: string, openDatabase: () => Promise<Database>, openStore: () => Promise<MatchingStore>) {
  describe(name, () => {
    let db: Database;
    let store: MatchingStore;
    beforeAll(async () => {
      db = await openDatabase();
      store = await openStore();
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
    });

    it("rebuilds after the live state is lost, and every open request reaches a correct end", async () => {
      const w = await createWorld(db, store, { presenceTtlMs: 3_600_000 });
      expect(await w.engine.ensureLiveState()).toEqual({ advisors: 0, requests: 0 });
      expect(await w.engine.ensureLiveState()).toBeNull(); // the generation is set: nothing to do

      const [a, b, c] = [await w.addAdvisor({ maxConcurrent: 1 }), await w.addAdvisor({ maxConcurrent: 1 }), await w.addAdvisor({ maxConcurrent: 1 })];
      for (const id of [a, b, c]) await w.engine.setPresence(id, "available");
      const create = async () => {
        const created = await w.engine.createRequest(requestInput(await w.addClient()));
        if (!created.ok) throw new Error(created.reason);
        return created.requestId;
      };
      const openOffer = async (requestId: string) => (await w.store.getRequest(requestId))!.offers.find((o) => o.outcome === null)!;

      const assigned = await create();
      const assignedOffer = await openOffer(assigned);
      expect((await w.engine.accept(assignedOffer.id, assignedOffer.advisorId)).ok).toBe(true);
      const offered = await create();
      const offeredTo = (await openOffer(offered)).advisorId;
      const timingOut = await create();
      const timingOutTo = (await openOffer(timingOut)).advisorId;
      const before = await Promise.all([a, b, c].map((id) => w.store.getAdvisor(id)));

      // The live store loses everything (a Redis flush or restart without persistence).
      await store.reset();
      expect(await store.getRequest(offered)).toBeNull();
      expect(await w.engine.ensureLiveState()).toMatchObject({ requests: 3 });

      // Assignments, push holds and open offers are back, exactly.
      const after = await Promise.all([a, b, c].map((id) => w.store.getAdvisor(id)));
      expect(after.map((s) => [s!.assignments, s!.pushHolds])).toEqual(before.map((s) => [s!.assignments, s!.pushHolds]));
      expect((await w.store.getRequest(assigned))!.status).toBe("assigned");
      expect((await w.store.getRequest(offered))!.status).toBe("offered");
      expect(await w.store.getDeadline(offered)).not.toBeNull();

      // Presence is not durable: advisors come back with their next heartbeat.
      for (const id of [a, b, c]) await w.engine.setPresence(id, "available");
      await w.engine.tick();
      expect((await w.engine.accept((await openOffer(offered)).id, offeredTo)).ok).toBe(true);
      expect(await w.engine.complete(assigned, assignedOffer.advisorId)).toEqual({ ok: true, duplicate: false });

      // The last one is never answered: it times out, runs the funnel and ends with a callback.
      for (let t = 0; t < 320; t += 10) {
        w.clock.advance(10_000);
        await w.engine.tick();
      }
      const rows = await db.prisma.serviceRequest.findMany({ where: { id: { in: [assigned, offered, timingOut] } } });
      const status = Object.fromEntries(rows.map((r) => [r.id, [r.status, r.callbackRequested]]));
      expect(status).toEqual({ [assigned]: ["completed", false], [offered]: ["assigned", false], [timingOut]: ["expired", true] });
      const timedOut = await db.prisma.offer.findFirst({ where: { requestId: timingOut, advisorId: timingOutTo } });
      expect(timedOut?.outcome).toBe("timed_out");
      expect((await w.store.getAdvisor(timingOutTo))!.pushHolds).toEqual([]);
    });
  });
}

rebuildContract("rebuild: memory store on embedded PGlite", openMigratedPglite, async () => createMemoryMatchingStore());
describeWithServices("rebuild on Redis + PostgreSQL", [await probePostgres(), await probeRedis()], () => {
  // Not live: the first ensureLiveState builds it.
  rebuildContract("rebuild: Redis store on a private PostgreSQL database", openScratchPostgres, () => openTestRedisStore(undefined, { live: false }));
});

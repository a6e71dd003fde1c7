/**
 * Races across processes: several engines (each its own Redis connection, as separate server
 * processes would be) on one Redis store and one PostgreSQL.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import type { MatchingEngine } from "../../matching/engine/engine.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { openTestPostgres } from "../support/databases.ts";
import { describeWithServices, probePostgres, probeRedis, testKeyPrefix } from "../support/services.ts";
import { openTestRedisStore } from "./support/redisStores.ts";
import { createWorld, type World, requestInput } from "./support/world.ts";

const PROCESSES = 8;

describeWithServices("races on Redis + PostgreSQL", [await probePostgres(), await probeRedis()], () => {
  let db: Database;
  const stores: MatchingStore[] = [];
  beforeAll(async () => {
    db = await openTestPostgres();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await db?.close();
  });

  async function cluster(): Promise<{ w: World; engines: MatchingEngine[] }> {
    const prefix = testKeyPrefix();
    const own = await Promise.all(Array.from({ length: PROCESSES }, () => openTestRedisStore(prefix)));
    stores.push(...own);
    const w = await createWorld(db, own[0]!);
    return { w, engines: own.map((s) => w.peer(s)) };
  }

  it("200 advisors grab one request through 8 processes: exactly one wins, 199 get ALREADY_TAKEN", async () => {
    const { w, engines } = await cluster();
    await w.setPolicy({ grabTopK: 200, stages: [{ pool: "branch", mode: "grab", timeoutSeconds: 60, maxOffers: 200 }] });
    const advisors = await Promise.all(Array.from({ length: 200 }, () => w.addAdvisor({ maxConcurrent: 1 })));
    await Promise.all(advisors.map((id, i) => engines[i % PROCESSES]!.setPresence(id, "available")));
    const created = await w.engine.createRequest(requestInput(await w.addClient(), { mode: "grab" }));
    const requestId = created.ok ? created.requestId : "";
    const offers = (await w.store.getRequest(requestId))!.offers;
    expect(offers).toHaveLength(200);

    const results = await Promise.all(offers.map((o, i) => engines[i % PROCESSES]!.accept(o.id, o.advisorId)));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === "ALREADY_TAKEN")).toHaveLength(199);

    const final = (await w.store.getRequest(requestId))!;
    const winner = final.assignedAdvisorId!;
    expect(final.offers.filter((o) => o.outcome === "accepted").map((o) => o.advisorId)).toEqual([winner]);
    // No slot leaked by a lost claim: only the winner holds one.
    const states = await w.store.getAdvisors(advisors);
    expect(states.filter((s) => s!.supply.active > 0).map((s) => s!.profile.id)).toEqual([winner]);
    expect(states.every((s) => s!.supply.pendingPush === 0)).toBe(true);
    const row = await db.prisma.serviceRequest.findUniqueOrThrow({ where: { id: requestId }, include: { offers: true } });
    expect(row.assignedAdvisorId).toBe(winner);
    expect(row.offers.filter((o) => o.outcome === "lost_race")).toHaveLength(199);
  });

  it("one advisor accepting 30 offers at once through 8 processes never exceeds capacity", async () => {
    const { w, engines } = await cluster();
    const busy = await w.addAdvisor({ maxConcurrent: 3 });
    await w.engine.setPresence(busy, "available");
    const requestIds: string[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await w.engine.createRequest(requestInput(await w.addClient(), { mode: "grab" }));
      if (created.ok) requestIds.push(created.requestId);
    }
    const offers = (await Promise.all(requestIds.map((id) => w.store.getRequest(id)))).flatMap((r) => r!.offers.filter((o) => o.outcome === null));
    expect(offers).toHaveLength(30);
    const results = await Promise.all(offers.map((o, i) => engines[i % PROCESSES]!.accept(o.id, busy)));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok && r.reason === "AT_CAPACITY")).toHaveLength(27);
    const state = (await w.store.getAdvisor(busy))!;
    expect(state.supply.active).toBe(3);
    expect(state.assignments.sort()).toEqual(results.flatMap((r) => (r.ok ? [r.requestId] : [])).sort());
  });
});

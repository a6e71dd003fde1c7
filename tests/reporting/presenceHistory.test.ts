/**
 * The presence history behind utilisation: the engine and the presence expiry job write an
 * AdvisorPresenceChange row for each transition the live store applied, none for a heartbeat that
 * changes nothing, and an expiry is dated when the heartbeat lapsed. Memory store, engine and
 * history on PGlite (the store contract covers `previous` on both stores).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expireLapsedPresence } from "../../app/jobs/presence.ts";
import type { PresenceHistory } from "../../matching/presenceHistory.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { Database } from "../../platform/database.ts";
import { createPrismaPresenceHistory, presenceChanges } from "../../reporting/presenceHistory.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { createWorld } from "../matching/support/world.ts";

const TTL = 45_000;

describe("presence history (memory store, engine and record on PGlite)", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openMigratedPglite();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it("records each transition of engine.setPresence once, with the advisor's branch and the time; heartbeats record nothing", async () => {
    const world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL, presenceHistory: createPrismaPresenceHistory(db.prisma) });
    const advisor = await world.addAdvisor();
    const t0 = world.clock.now();
    const steps = ["available", "available", "away", "away", "available", "offline", "offline"] as const;
    for (const presence of steps) {
      expect((await world.engine.setPresence(advisor, presence)).ok).toBe(true);
      world.clock.advance(10_000);
    }
    // The engine does not wait for the history write (reporting must not slow a presence answer).
    await expect
      .poll(() => presenceChanges(db.prisma, world.branchId))
      .toEqual([
        { advisorId: advisor, branchId: world.branchId, presence: "available", at: t0 },
        { advisorId: advisor, branchId: world.branchId, presence: "away", at: t0 + 20_000 },
        { advisorId: advisor, branchId: world.branchId, presence: "available", at: t0 + 40_000 },
        { advisorId: advisor, branchId: world.branchId, presence: "offline", at: t0 + 50_000 },
      ]);
  });

  it("the expiry job records offline at the last heartbeat plus the TTL, whenever it runs, and once", async () => {
    const history = createPrismaPresenceHistory(db.prisma);
    const world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL, presenceHistory: history });
    const advisor = await world.addAdvisor();
    const t0 = world.clock.now();
    await world.engine.setPresence(advisor, "available");
    world.clock.advance(TTL + 17_000); // the job notices late
    const run = () => expireLapsedPresence({ store: world.store, clock: world.clock, presenceTtlMs: TTL, presenceHistory: history });
    expect(await run()).toEqual({ expired: 1, refreshed: 0 });
    expect(await run()).toEqual({ expired: 0, refreshed: 0 });
    expect(await presenceChanges(db.prisma, world.branchId)).toEqual([
      { advisorId: advisor, branchId: world.branchId, presence: "available", at: t0 },
      { advisorId: advisor, branchId: world.branchId, presence: "offline", at: t0 + TTL },
    ]);
  });

  it("a history that cannot write leaves the presence change standing (reporting, not a decision)", async () => {
    const failing: PresenceHistory = {
      record: async () => {
        throw new Error("history down");
      },
    };
    const world = await createWorld(db, createMemoryMatchingStore(), { presenceTtlMs: TTL, presenceHistory: failing });
    const advisor = await world.addAdvisor();
    const result = await world.engine.setPresence(advisor, "available");
    expect(result.ok && result.advisor.supply.presence).toBe("available");
    expect((await world.store.getAdvisor(advisor))?.supply.presence).toBe("available");
    world.clock.advance(TTL);
    expect(await expireLapsedPresence({ store: world.store, clock: world.clock, presenceTtlMs: TTL, presenceHistory: failing })).toEqual({
      expired: 1,
      refreshed: 0,
    });
    expect(await presenceChanges(db.prisma, world.branchId)).toEqual([]);
  });
});

/**
 * Incentives end to end on a real database (embedded PGlite): the event log, the cursor, the fold,
 * the ledger. Each test uses its own database, because the consumer reads the whole event log.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../core/clock.ts";
import { createLogger } from "../../core/logger.ts";
import type { Database } from "../../platform/database.ts";
import { drainIncentives } from "../../incentives/consumer.ts";
import { simulate, type EvaluableEvent } from "../../incentives/evaluate.ts";
import { accountCode } from "../../incentives/ledger/accounts.ts";
import { balanceOf, verifyLedger } from "../../incentives/ledger/balances.ts";
import { activateRuleSet, createDraft } from "../../incentives/ruleSets.ts";
import { parseRuleSet, type RuleSet } from "../../incentives/rules/schema.ts";
import { simulateRuleSet } from "../../incentives/simulation.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { createWorld, requestInput } from "../matching/support/world.ts";
import { accepted, declined, LONDON, rated, timedOut, WORKED_DAY, WORKED_DECISIONS, WORKED_RULES } from "./support/workedExample.ts";

const logger = createLogger("silent");
const open: Database[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function freshDatabase(): Promise<Database> {
  const db = await openMigratedPglite();
  open.push(db);
  return db;
}

function ruleSetOf(json: unknown): RuleSet {
  const parsed = parseRuleSet(json);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.ruleSet;
}

/** A branch with an active rule set, and the given events in its event log. */
async function branchWithEvents(db: Database, branchId: string, ruleSet: RuleSet, events: EvaluableEvent[], timezone = LONDON) {
  await db.prisma.branch.create({ data: { id: branchId, name: branchId, region: "r", timezone } });
  const draft = await createDraft(db.prisma, branchId, ruleSet, "manager");
  await activateRuleSet(db.prisma, branchId, draft.version, "manager", new Date());
  await db.prisma.eventLog.createMany({
    data: events.map((e) => ({
      id: e.id,
      type: e.type,
      at: new Date(e.at),
      branchId,
      requestId: e.requestId,
      advisorId: "advisorId" in e ? e.advisorId : null,
      data: { ...e, branchId } as object,
    })),
  });
}

const consumer = (db: Database, extra: Partial<Parameters<typeof drainIncentives>[0]> = {}) => ({
  prisma: db.prisma,
  store: createMemoryMatchingStore(),
  clock: new ManualClock(),
  logger,
  ...extra,
});

describe("incentives pipeline", () => {
  it("the worked example yields exactly the expected ledger", async () => {
    const db = await freshDatabase();
    await branchWithEvents(db, "br-london", ruleSetOf(JSON.parse(WORKED_RULES)), WORKED_DAY);
    await drainIncentives(consumer(db));

    const awards = await db.prisma.incentiveAward.findMany({ orderBy: { createdAt: "asc" } });
    const asDecisions = awards.map((a) => ({
      eventId: a.eventId,
      ruleId: a.ruleId,
      advisorId: a.advisorId,
      points: a.points,
      status: a.status,
      reason: a.reason ?? undefined,
    }));
    const expected = WORKED_DECISIONS.map(({ ruleSetVersion: _v, ...d }) => ({ ...d, reason: d.reason }));
    expect(asDecisions.sort((x, y) => (x.eventId + x.ruleId).localeCompare(y.eventId + y.ruleId))).toEqual(
      expected.sort((x, y) => (x.eventId + x.ruleId).localeCompare(y.eventId + y.ruleId)),
    );
    expect(await balanceOf(db.prisma, accountCode.advisorPoints("ana"))).toBe(65);
    expect(await balanceOf(db.prisma, accountCode.advisorPoints("ben"))).toBe(15);
    expect(await balanceOf(db.prisma, accountCode.advisorPoints("cai"))).toBe(10);
    expect(await balanceOf(db.prisma, accountCode.branchBudget("br-london"))).toBe(0);
    expect(await balanceOf(db.prisma, accountCode.platformIssuance())).toBe(-90);
    expect(await verifyLedger(db.prisma)).toEqual([]);
    // A second pass finds nothing new: the cursor has moved past every event.
    expect(await drainIncentives(consumer(db))).toEqual({ events: 0, decisions: 0, posted: 0 });
  });

  it("a run stops once a batch comes back short: events written while it folded wait for the next run", async () => {
    const db = await freshDatabase();
    await branchWithEvents(db, "br-london", ruleSetOf(JSON.parse(WORKED_RULES)), WORKED_DAY);
    let written = false;
    // An event logged while the first batch is being folded (as under load, by the persister).
    const logOneMore = async () => {
      if (written) return;
      written = true;
      await db.prisma.eventLog.create({
        data: { id: "evt_late", type: "request.created", at: new Date(), requestId: "req_late", branchId: "br-london", data: {} },
      });
    };
    const first = await drainIncentives(consumer(db, { afterAwards: logOneMore }));
    expect(written).toBe(true);
    expect(first.events).toBeGreaterThan(0);
    // The first run's batch was short when it was read, so the run ended without chasing the late one.
    expect((await drainIncentives(consumer(db))).events).toBe(1);
    expect((await drainIncentives(consumer(db))).events).toBe(0);
  });

  it("crash between an event and its award: after restart the award exists exactly once", async () => {
    const db = await freshDatabase();
    await branchWithEvents(
      db,
      "br-crash",
      ruleSetOf(JSON.parse(WORKED_RULES)),
      WORKED_DAY.map((e) => ({ ...e, branchId: "br-crash" })),
    );
    let crashes = 0;
    // Crash after the awards of the 5th earning event are posted, before its fold state and the cursor are saved.
    const crashOnce = async (eventId: string) => {
      if (eventId === "a5" && crashes++ === 0) throw new Error("simulated crash");
    };
    await expect(drainIncentives(consumer(db, { afterAwards: crashOnce }))).rejects.toThrow("simulated crash");
    expect(await db.prisma.incentiveAward.count({ where: { eventId: "a5" } })).toBe(2); // posted before the crash
    await drainIncentives(consumer(db)); // the restarted process
    expect(await db.prisma.incentiveAward.count({ where: { eventId: "a5" } })).toBe(2);
    expect(await db.prisma.incentiveAward.count()).toBe(WORKED_DECISIONS.length);
    expect(await db.prisma.ledgerTransaction.count({ where: { kind: "award" } })).toBe(WORKED_DECISIONS.filter((d) => d.status === "posted").length);
    expect(await balanceOf(db.prisma, accountCode.advisorPoints("ana"))).toBe(65);
    expect(await verifyLedger(db.prisma)).toEqual([]);
  });

  it("simulating recorded weeks gives the same totals as activating the rules and replaying them into a fresh ledger", async () => {
    const advisors = ["ana", "ben", "cai", "dev"];
    const weekStart = Date.UTC(2026, 5, 8, 0, 0); // Monday 8 June 2026, 01:00 in London
    const eventArb = fc.record({
      kind: fc.constantFrom("accept", "accept", "accept", "decline", "timeout", "rate"),
      advisor: fc.constantFrom(...advisors),
      minute: fc.integer({ min: 0, max: 7 * 24 * 60 - 1 }),
      latency: fc.integer({ min: 1, max: 30 }),
      stars: fc.integer({ min: 1, max: 5 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 5, maxLength: 60 }), async (drawn) => {
        run++;
        const sorted = [...drawn].sort((a, b) => a.minute - b.minute);
        const events: EvaluableEvent[] = sorted.map((d, i) => {
          const id = `w${run}_${i}`;
          const at = weekStart + d.minute * 60_000;
          return d.kind === "accept"
            ? accepted(id, d.advisor, at, d.latency)
            : d.kind === "decline"
              ? declined(id, d.advisor, at)
              : d.kind === "timeout"
                ? timedOut(id, d.advisor, at)
                : rated(id, d.advisor, at, d.stars);
        });
        const ruleSet = ruleSetOf(JSON.parse(WORKED_RULES));
        const branchId = `br-fidelity-${run}`;

        // Recorded: the week in one database, simulated through the API's simulation.
        const recorded = await freshDatabase();
        await branchWithEvents(recorded, branchId, ruleSet, events);
        const report = await simulateRuleSet(recorded.prisma, branchId, ruleSet, 1, new Date(weekStart), new Date(weekStart + 7 * 86_400_000));
        expect(report.events).toBe(events.length);
        // Replayed: the same rules active in a fresh ledger, the same events evaluated live.
        const fresh = await freshDatabase();
        await branchWithEvents(fresh, branchId, ruleSet, events);
        await drainIncentives(consumer(fresh));
        const posted = await fresh.prisma.incentiveAward.groupBy({ by: ["advisorId"], where: { status: "posted" }, _sum: { points: true } });
        const live = Object.fromEntries(posted.map((p) => [p.advisorId, p._sum.points ?? 0]));
        const simulated = Object.fromEntries(Object.entries(report.draft.perAdvisor).filter(([, points]) => points > 0));
        expect(live).toEqual(simulated);
        expect(report.draft.totals.points).toBe(Object.values(live).reduce((a, b) => a + b, 0));
        expect(await fresh.prisma.incentiveAward.count()).toBe(report.draft.totals.posted + report.draft.totals.skipped);
        expect(await verifyLedger(fresh.prisma)).toEqual([]);
        await Promise.all(open.splice(0).map((db) => db.close()));
        // And the pure simulation agrees with the one served over the recorded events.
        expect(simulate(events, ruleSet, { timezone: LONDON, ruleSetVersion: 1 }).totals).toEqual(report.draft.totals);
      }),
      { numRuns: 6 },
    );
  }, 300_000);

  it("flywheel: of two otherwise equal advisors, the more responsive one is offered first", async () => {
    const db = await freshDatabase();
    const store = createMemoryMatchingStore();
    const w = await createWorld(db, store, { presenceTtlMs: 24 * 3_600_000 });
    const draft = await createDraft(
      db.prisma,
      w.branchId,
      ruleSetOf({
        rules: [{ id: "fast", on: "offer.accepted", when: { responseSecondsAtMost: 10 }, award: { points: 10 } }],
        budget: { points: 1000, period: "week" },
      }),
      "m",
    );
    await activateRuleSet(db.prisma, w.branchId, draft.version, "m", new Date(w.clock.now()));
    // The reluctant advisor is created first: with equal scores the tie-break (lowest id) would pick
    // them, so only responsiveness and incentives can put the eager one first.
    const reluctant = await w.addAdvisor({ maxConcurrent: 1 });
    const eager = await w.addAdvisor({ maxConcurrent: 1 });
    expect(reluctant < eager).toBe(true);
    for (const id of [eager, reluctant]) await w.engine.setPresence(id, "available");
    const client = await w.addClient();
    const ask = async () => {
      const created = await w.engine.createRequest(requestInput(client));
      if (!created.ok) throw new Error(created.reason);
      return created.requestId;
    };
    // Five rounds: whoever is offered, the eager advisor accepts within 2 s, the reluctant one declines.
    for (let round = 0; round < 5; round++) {
      const requestId = await ask();
      for (let hop = 0; hop < 3; hop++) {
        const open = (await w.store.getRequest(requestId))!.offers.find((o) => o.outcome === null);
        if (!open) break;
        w.clock.advance(2_000);
        if (open.advisorId === eager) {
          expect((await w.engine.accept(open.id, eager)).ok).toBe(true);
          await w.engine.complete(requestId, eager);
          break;
        }
        await w.engine.decline(open.id, reluctant);
      }
      for (const id of [eager, reluctant]) await w.engine.setPresence(id, "available");
    }
    await drainIncentives({ prisma: db.prisma, store, clock: w.clock, logger });
    const [e, r] = [(await store.getAdvisor(eager))!, (await store.getAdvisor(reluctant))!];
    expect(e.stats.incentive).toBeGreaterThan(r.stats.incentive);
    expect(await balanceOf(db.prisma, accountCode.advisorPoints(eager))).toBeGreaterThan(0);

    // Long enough later that fairness (time since the last assignment) no longer separates them.
    w.clock.advance(2 * 3_600_000);
    for (const id of [eager, reluctant]) await w.engine.setPresence(id, "available");
    const next = await ask();
    expect((await w.store.getRequest(next))!.offers[0]!.advisorId).toBe(eager);
  });
});

/**
 * The consistency checker (matching/records/consistency.ts): a world driven through the engine is
 * consistent, and each divergence or invariant violation introduced by hand, in PostgreSQL or in
 * the live store, is named with its kind or field. Every fault is undone afterwards and the world
 * checked consistent again, so each test sees only its own fault.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import type { RequestMode } from "../../matching/domain/types.ts";
import { checkConsistency } from "../../matching/records/consistency.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { AdvisorState, MatchingStore, OfferState } from "../../matching/store/port.ts";
import { expectConsistent, expectSettlesConsistent, violationKinds } from "../support/consistency.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis } from "../support/services.ts";
import { openTestRedisStore } from "./support/redisStores.ts";
import { createWorld, type World } from "./support/world.ts";

/** The requests of the driven world, in the states the faults start from. */
interface Drive {
  /** Assigned after its push offer was accepted. */
  assigned: string;
  assignee: string;
  /** Offered to a second advisor after the first declined. */
  offered: string;
  declined: OfferState;
  open: OfferState;
  /** Accepted and completed (terminal, still retained by the store). */
  completed: string;
  /** A grab: broadcast, one accept, the other offers lost the race. */
  grabbed: string;
}

async function drive(w: World): Promise<Drive> {
  const advisors = [await w.addAdvisor(), await w.addAdvisor(), await w.addAdvisor()];
  for (const id of advisors) await w.engine.setPresence(id, "available");
  const create = async (mode: RequestMode = "dispatch") => {
    w.clock.advance(1_000);
    const created = await w.engine.createRequest({
      clientId: await w.addClient(),
      topic: "t",
      requiredLicence: "fund_sales",
      channel: "chat",
      mode,
      language: null,
      priority: 0,
    });
    if (!created.ok) throw new Error(created.reason);
    return created.requestId;
  };
  const openOffers = async (requestId: string) => (await w.store.getRequest(requestId))!.offers.filter((o) => o.outcome === null);
  const acceptFirst = async (requestId: string) => {
    const [offer] = await openOffers(requestId);
    w.clock.advance(500);
    expect(await w.engine.accept(offer!.id, offer!.advisorId)).toMatchObject({ ok: true });
    return offer!;
  };

  const assigned = await create();
  const assignee = (await acceptFirst(assigned)).advisorId;

  const completed = await create();
  const completer = (await acceptFirst(completed)).advisorId;
  expect(await w.engine.complete(completed, completer)).toEqual({ ok: true, duplicate: false });

  const offered = await create();
  const [first] = await openOffers(offered);
  w.clock.advance(500);
  expect(await w.engine.decline(first!.id, first!.advisorId)).toMatchObject({ ok: true });
  const declined = (await w.store.getRequest(offered))!.offers.find((o) => o.id === first!.id)!;
  const [open] = await openOffers(offered);
  expect(open!.advisorId).not.toBe(declined.advisorId);

  const grabbed = await create("grab");
  expect((await openOffers(grabbed)).length).toBeGreaterThan(1);
  await acceptFirst(grabbed);

  return { assigned, assignee, offered, declined, open: open!, completed, grabbed };
}

function consistencyContract(name: string, openDatabase: () => Promise<Database>, openStore: () => Promise<MatchingStore>) {
  describe(name, () => {
    let db: Database;
    let store: MatchingStore;
    let w: World;
    let d: Drive;
    beforeAll(async () => {
      db = await openDatabase();
      store = await openStore();
      w = await createWorld(db, store, { presenceTtlMs: 3_600_000 });
      d = await drive(w);
    });
    afterAll(async () => {
      await store?.close();
      await db?.close();
    });

    const check = (now = w.clock.now()) => checkConsistency({ prisma: db.prisma, store, now });
    /** Introduces a fault, hands the report to `expectations`, then undoes the fault and checks the world is consistent again. */
    const withFault = async (inject: () => Promise<void>, undo: () => Promise<void>, expectations: (report: Awaited<ReturnType<typeof check>>) => void) => {
      await inject();
      try {
        expectations(await check());
      } finally {
        await undo();
      }
      await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
    };
    const advisor = async (id: string) => (await store.getAdvisor(id))!;
    const request = async (id: string) => (await store.getRequest(id))!;
    /** Restores a request as it is now (with its deadline) when called. */
    const keepRequest = async (id: string) => {
      const [saved, deadline] = [await request(id), await store.getDeadline(id)];
      return () => store.restoreRequest(saved, deadline);
    };
    const withAssignments = (state: AdvisorState, assignments: string[]): AdvisorState => ({
      ...state,
      assignments,
      supply: { ...state.supply, active: assignments.length },
    });

    it("finds the driven world consistent, comparing the live, offered, grabbed and recently completed requests", async () => {
      const report = await expectConsistent({ prisma: db.prisma, store, now: w.clock.now() });
      expect(report.requests).toBe(4);
      expect((await request(d.completed)).status).toBe("completed"); // compared although terminal
    });

    it("names a request whose ServiceRequest status was changed in PostgreSQL", async () => {
      const setStatus = (status: "assigned" | "cancelled") =>
        db.prisma.serviceRequest.update({ where: { id: d.assigned }, data: { status } }).then(() => undefined);
      await withFault(
        () => setStatus("cancelled"),
        () => setStatus("assigned"),
        (report) => {
          expect(report.ok).toBe(false);
          expect(report.divergences).toEqual([{ requestId: d.assigned, field: "status", live: "assigned", recorded: "cancelled" }]);
          expect(report.violations).toEqual([]);
        },
      );
    });

    it("the repeated check against running servers still fails on a divergence that does not clear", async () => {
      const setStatus = (status: "assigned" | "cancelled") =>
        db.prisma.serviceRequest.update({ where: { id: d.assigned }, data: { status } }).then(() => undefined);
      await setStatus("cancelled");
      try {
        await expect(expectSettlesConsistent(() => ({ prisma: db.prisma, store, now: w.clock.now() }), 600)).rejects.toThrow(/disagree/);
      } finally {
        await setStatus("assigned");
      }
      await expectSettlesConsistent(() => ({ prisma: db.prisma, store, now: w.clock.now() }), 600);
    });

    it("names an offer whose recorded outcome and answer time differ", async () => {
      const setOutcome = (outcome: "declined" | "timed_out", respondedAt: number | null) =>
        db.prisma.offer
          .update({ where: { id: d.declined.id }, data: { outcome, respondedAt: respondedAt === null ? null : new Date(respondedAt) } })
          .then(() => undefined);
      await withFault(
        () => setOutcome("timed_out", d.declined.respondedAt! + 1),
        () => setOutcome("declined", d.declined.respondedAt),
        (report) => {
          expect(report.divergences).toEqual([
            { requestId: d.offered, field: `offers.${d.declined.id}.outcome`, live: "declined", recorded: "timed_out" },
            { requestId: d.offered, field: `offers.${d.declined.id}.respondedAt`, live: d.declined.respondedAt, recorded: d.declined.respondedAt! + 1 },
          ]);
        },
      );
    });

    it("names a request PostgreSQL has live that the store has never seen", async () => {
      const id = `req_ghost_${w.tag}`;
      const clientId = await w.addClient();
      const row = {
        id,
        clientId,
        branchId: w.branchId,
        topic: "t",
        requiredLicence: "fund_sales" as const,
        channel: "chat" as const,
        status: "pending" as const,
      };
      await withFault(
        () => db.prisma.serviceRequest.create({ data: row }).then(() => undefined),
        () => db.prisma.serviceRequest.delete({ where: { id } }).then(() => undefined),
        (report) => {
          expect(report.requests).toBe(5);
          expect(report.divergences).toEqual([{ requestId: id, field: "request", live: null, recorded: "pending" }]);
        },
      );
    });

    it("names a request the store has as completed while PostgreSQL has it assigned, and the assignment its advisor still holds", async () => {
      const undo = await keepRequest(d.assigned);
      await withFault(
        async () => store.restoreRequest({ ...(await request(d.assigned)), status: "completed" }, null),
        undo,
        (report) => {
          expect(report.divergences).toEqual([{ requestId: d.assigned, field: "status", live: "completed", recorded: "assigned" }]);
          expect(violationKinds(report)).toEqual(["assignment_mismatch"]);
          expect(report.violations[0]!.detail).toContain(d.assignee);
        },
      );
    });

    it("names an advisor restored with more assignments than maxConcurrent", async () => {
      const before = await advisor(d.assignee);
      const extra = Array.from({ length: before.profile.maxConcurrent - before.assignments.length + 1 }, (_, i) => `req_extra_${i}`);
      await withFault(
        () => store.restoreAdvisor(withAssignments(before, [...before.assignments, ...extra])),
        () => store.restoreAdvisor(before),
        (report) => {
          expect(report.divergences).toEqual([]);
          expect(report.violations.filter((v) => v.kind === "capacity_overrun")).toEqual([
            { kind: "capacity_overrun", detail: expect.stringContaining(d.assignee) },
          ]);
          // The extra ids are assigned to nobody in the store.
          expect(report.violations.filter((v) => v.kind === "assignment_mismatch")).toHaveLength(extra.length);
          expect(violationKinds(report).filter((k) => k !== "assignment_mismatch")).toEqual(["capacity_overrun"]);
        },
      );
    });

    it("names a request two advisors hold in their assignments", async () => {
      const other = await advisor(d.declined.advisorId === d.assignee ? d.open.advisorId : d.declined.advisorId);
      expect(other.profile.id).not.toBe(d.assignee);
      const doubled = { ...withAssignments(other, [...other.assignments, d.assigned]), profile: { ...other.profile, maxConcurrent: 10 } };
      await withFault(
        () => store.restoreAdvisor(doubled),
        () => store.restoreAdvisor(other),
        (report) => {
          expect(violationKinds(report)).toEqual(["assignment_mismatch", "double_assignment"]);
          const double = report.violations.find((v) => v.kind === "double_assignment")!;
          expect(double.detail).toContain(d.assigned);
          expect(double.detail).toContain(d.assignee);
          expect(double.detail).toContain(other.profile.id);
        },
      );
    });

    it("names an open push offer whose advisor lost the hold, and a hold with no offer", async () => {
      const before = await advisor(d.open.advisorId);
      expect(before.pushHolds).toContain(d.open.id);
      const holds = [...before.pushHolds.filter((id) => id !== d.open.id), "off_nothing"];
      await withFault(
        () => store.restoreAdvisor({ ...before, pushHolds: holds }),
        () => store.restoreAdvisor(before),
        (report) => {
          expect(violationKinds(report)).toEqual(["hold_mismatch", "hold_mismatch"]);
          expect(report.violations.some((v) => v.detail.includes("off_nothing"))).toBe(true);
          expect(report.violations.some((v) => v.detail.includes(d.open.id))).toBe(true);
        },
      );
    });

    it("names an offered request whose deadline is gone", async () => {
      const deadline = await store.getDeadline(d.offered);
      expect(deadline).not.toBeNull();
      await withFault(
        () => store.clearDeadline(d.offered),
        () => store.setDeadline(d.offered, deadline!),
        (report) => {
          expect(report.violations).toEqual([{ kind: "stuck", detail: `${d.offered} is offered with no deadline` }]);
        },
      );
    });

    it("names an open offer long past its expiry once the settle time has passed, not before", async () => {
      const { expiresAt } = d.open;
      const settled = await checkConsistency({ prisma: db.prisma, store, now: expiresAt + 1_000, settleMs: 5_000 });
      expect(settled.violations).toEqual([]);
      const late = await checkConsistency({ prisma: db.prisma, store, now: expiresAt + 10_000, settleMs: 5_000 });
      expect(late.violations.filter((v) => v.detail.includes(d.open.id))).toEqual([
        { kind: "stuck", detail: `open offer ${d.open.id} (${d.offered}) expired 10000 ms ago` },
      ]);
    });
  });
}

consistencyContract("consistency: memory store on embedded PGlite", openMigratedPglite, async () => createMemoryMatchingStore());
describeWithServices("consistency on Redis + PostgreSQL", [await probePostgres(), await probeRedis()], () => {
  consistencyContract("consistency: Redis store on a private PostgreSQL database", openScratchPostgres, () => openTestRedisStore());
});

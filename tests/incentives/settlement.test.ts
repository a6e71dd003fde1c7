/**
 * Settling incentive periods, on embedded PGlite and on PostgreSQL: points of the period's posted
 * awards move to payable, the report and CSV say exactly what moved, and reruns and concurrent runs
 * change nothing. settlePeriod runs in the shared database, isolated by fresh branch and advisor
 * ids; settleDueBranches settles every branch there is, so it runs in a private database.
 */
import { pino, type Logger } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database, PrismaClient } from "../../platform/database.ts";
import { accountCode } from "../../incentives/ledger/accounts.ts";
import { fundBudget, postAward, recordSkippedAward, type AwardInput } from "../../incentives/ledger/awards.ts";
import { balanceOf, verifyLedger } from "../../incentives/ledger/balances.ts";
import { postTransaction, reverseTransaction } from "../../incentives/ledger/post.ts";
import { INCENTIVE_CONSUMER } from "../../incentives/consumer.ts";
import { previousWeek } from "../../incentives/periods.ts";
import { csvField, settleDueBranches, settlementCsv, settlementIdempotencyKey, settlePeriod, type SettlePeriodInput } from "../../incentives/settlement.ts";
import { openMigratedPglite, openTestPostgres } from "../support/databases.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, uniqueTag } from "../support/services.ts";

const t = (iso: string) => Date.parse(iso);
/** Monday 2026-03-30 09:00 in London: week 13 (23–29 March, 167 hours: the clocks went forward) has just closed. */
const NOW = t("2026-03-30T08:00:00Z");
const LONDON = "Europe/London";
const W13 = previousWeek(NOW, LONDON);
const silent = pino({ level: "silent" });

interface Backend {
  /** The database shared with other suites. */
  open(): Promise<Database>;
  /** A database of this suite's own, for code that touches every branch. */
  openPrivate(): Promise<Database>;
}

/** A pino logger whose entries land in `entries`. */
function capturingLogger(): { logger: Logger; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void entries.push(JSON.parse(line)) });
  return { logger, entries };
}

async function newBranch(prisma: PrismaClient, timezone = LONDON) {
  const tag = uniqueTag();
  const branchId = `brn_st${tag}`;
  await prisma.branch.create({ data: { id: branchId, name: "Settlement test", region: `r${tag}`, timezone } });
  return { tag, branchId, advisor: (name: string) => `adv_st${tag}_${name}` };
}

let events = 0;
async function award(prisma: PrismaClient, input: Omit<AwardInput, "eventId" | "ruleSetVersion" | "at"> & { at: string }): Promise<string> {
  const result = await postAward(prisma, { ...input, eventId: `evt_st${uniqueTag()}${events++}`, ruleSetVersion: 1, at: new Date(input.at) });
  if (!result.ok || result.decision.status !== "posted") throw new Error(`award not posted: ${JSON.stringify(result)}`);
  return result.decision.transactionId!;
}

/** Everything a settlement may change, for the advisors' accounts and the branch. */
async function snapshot(prisma: PrismaClient, branchId: string, advisorIds: string[]) {
  const balances: Record<string, number> = {};
  for (const id of advisorIds) {
    balances[accountCode.advisorPoints(id)] = await balanceOf(prisma, accountCode.advisorPoints(id));
    balances[accountCode.advisorPayable(id)] = await balanceOf(prisma, accountCode.advisorPayable(id));
  }
  return {
    balances,
    transactions: await prisma.ledgerTransaction.count({ where: { branchId } }),
    settlementTransactions: await prisma.ledgerTransaction.count({ where: { branchId, kind: "settlement" } }),
    settlements: await prisma.settlement.count({ where: { branchId } }),
  };
}

const period = (branchId: string, now = NOW): SettlePeriodInput => ({ branchId, ...W13, now });

function settlementSuite(backend: Backend) {
  let db: Database;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  /**
   * Two advisors with awards in week 13, one only outside it, a skipped award, an award of another
   * branch, and awards on both edges of the period: its first and last millisecond are in, the end is out.
   */
  async function seedWeek() {
    const prisma = db.prisma;
    const { branchId, advisor } = await newBranch(prisma);
    const other = await newBranch(prisma);
    const [a, b, c] = [advisor("a"), advisor("b"), advisor("c")];
    for (const id of [branchId, other.branchId])
      expect(await fundBudget(prisma, { branchId: id, points: 1_000, periodKey: W13.key })).toMatchObject({ ok: true });

    await award(prisma, { branchId, advisorId: a, ruleId: "first_response", points: 10, at: "2026-03-23T00:00:00.000Z" }); // the period's first instant
    await award(prisma, { branchId, advisorId: a, ruleId: "five_stars", points: 5, at: "2026-03-25T10:00:00.000Z" });
    await award(prisma, { branchId, advisorId: a, ruleId: "first_response", points: 7, at: "2026-03-29T22:59:59.999Z" }); // its last: Sunday 23:59:59.999 BST
    await award(prisma, { branchId, advisorId: a, ruleId: "first_response", points: 100, at: "2026-03-29T23:00:00.000Z" }); // Monday 00:00 BST: week 14
    await award(prisma, { branchId, advisorId: b, ruleId: "first_response", points: 4, at: "2026-03-26T15:00:00.000Z" });
    await award(prisma, { branchId: other.branchId, advisorId: b, ruleId: "first_response", points: 6, at: "2026-03-26T15:00:00.000Z" }); // another branch's
    await award(prisma, { branchId, advisorId: c, ruleId: "first_response", points: 8, at: "2026-03-22T23:59:59.999Z" }); // week 12
    const skipped = await recordSkippedAward(prisma, {
      eventId: `evt_sk${uniqueTag()}`,
      ruleId: "five_stars",
      ruleSetVersion: 1,
      branchId,
      advisorId: b,
      points: 3,
      at: new Date("2026-03-27T09:00:00Z"),
      reason: "cap_per_day",
    });
    expect(skipped).toMatchObject({ ok: true, decision: { status: "skipped" } });
    return { branchId, a, b, c, advisors: [a, b, c] };
  }

  it("moves the period's awarded points to payable and records the report and the CSV", async () => {
    const prisma = db.prisma;
    const { branchId, a, b, c, advisors } = await seedWeek();
    expect(W13).toEqual({ start: t("2026-03-23T00:00:00Z"), end: t("2026-03-29T23:00:00Z"), key: "2026-W13" });

    const result = await settlePeriod(prisma, period(branchId));

    expect(result.created).toBe(true);
    const expectedReport = {
      branchId,
      period: { key: "2026-W13", start: "2026-03-23T00:00:00.000Z", end: "2026-03-29T23:00:00.000Z" },
      advisors: [
        { advisorId: a, points: 22, awards: 3, byRule: { first_response: 17, five_stars: 5 } },
        { advisorId: b, points: 4, awards: 1, byRule: { first_response: 4 } },
      ],
      totals: { points: 26, awards: 4, advisors: 2 },
    };
    const expectedCsv = `advisor_id,points,awards\r\n${a},22,3\r\n${b},4,1\r\n`;
    expect(result.settlement).toMatchObject({
      branchId,
      periodStart: new Date(W13.start),
      periodEnd: new Date(W13.end),
      closedAt: new Date(NOW),
      csv: expectedCsv,
    });
    expect(result.settlement.report).toEqual(expectedReport);
    expect(result.settlement.id).toMatch(/^stl_[0-9a-z]{26}$/);

    // What was stored, read back.
    const stored = await prisma.settlement.findUniqueOrThrow({ where: { id: result.settlement.id } });
    expect(stored.report).toEqual(expectedReport);
    expect(stored.csv).toBe(expectedCsv);

    const after = await snapshot(prisma, branchId, advisors);
    expect(after.balances).toEqual({
      [accountCode.advisorPoints(a)]: 100, // week 14's award stays to be settled next week
      [accountCode.advisorPayable(a)]: 22,
      [accountCode.advisorPoints(b)]: 6, // the other branch's award is that branch's to settle
      [accountCode.advisorPayable(b)]: 4,
      [accountCode.advisorPoints(c)]: 8, // week 12 is not this period
      [accountCode.advisorPayable(c)]: 0,
    });
    expect(after.settlementTransactions).toBe(2);
    expect(after.settlements).toBe(1);
    const moves = await prisma.ledgerTransaction.findMany({
      where: { branchId, kind: "settlement" },
      select: { idempotencyKey: true },
      orderBy: { idempotencyKey: "asc" },
    });
    expect(moves.map((m) => m.idempotencyKey)).toEqual([`settle:${branchId}:2026-W13:${a}`, `settle:${branchId}:2026-W13:${b}`]);
    const codes = advisors.flatMap((id) => [accountCode.advisorPoints(id), accountCode.advisorPayable(id)]);
    expect(await verifyLedger(prisma, { accountCodes: [...codes, accountCode.branchBudget(branchId)] })).toEqual([]);
  });

  it("changes nothing when a closed period is settled again, and answers with the settlement", async () => {
    const prisma = db.prisma;
    const { branchId, advisors } = await seedWeek();
    const first = await settlePeriod(prisma, period(branchId));
    const before = await snapshot(prisma, branchId, advisors);

    const again = await settlePeriod(prisma, period(branchId, NOW + 3_600_000));

    expect(again).toEqual({ created: false, settlement: first.settlement });
    expect(await snapshot(prisma, branchId, advisors)).toEqual(before);
  });

  it("settles once when runs race: one Settlement row, every advisor moved once", async () => {
    const prisma = db.prisma;
    const { branchId, a, b, advisors } = await seedWeek();

    const results = await Promise.all([settlePeriod(prisma, period(branchId)), settlePeriod(prisma, period(branchId)), settlePeriod(prisma, period(branchId))]);

    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.settlement.id)).size).toBe(1);
    expect(results.map((r) => r.settlement.report.totals)).toEqual(Array(3).fill({ points: 26, awards: 4, advisors: 2 }));
    const after = await snapshot(prisma, branchId, advisors);
    expect(after).toMatchObject({ settlementTransactions: 2, settlements: 1 });
    expect(after.balances).toMatchObject({
      [accountCode.advisorPayable(a)]: 22,
      [accountCode.advisorPoints(a)]: 100,
      [accountCode.advisorPayable(b)]: 4,
      [accountCode.advisorPoints(b)]: 6,
    });

    // And a late rerun after the race still changes nothing.
    expect((await settlePeriod(prisma, period(branchId))).created).toBe(false);
    expect(await snapshot(prisma, branchId, advisors)).toEqual(after);
  });

  it("settles while awards for the new week keep arriving: no deadlock, nothing lost or moved twice", async () => {
    const prisma = db.prisma;
    const { branchId, advisor } = await newBranch(prisma);
    const advisors = Array.from({ length: 12 }, (_, i) => advisor(String(i).padStart(2, "0")));
    await fundBudget(prisma, { branchId, points: 10_000, periodKey: W13.key });
    for (const [i, id] of advisors.entries())
      await award(prisma, { branchId, advisorId: id, ruleId: "first_response", points: i + 1, at: "2026-03-27T12:00:00Z" });

    // Week 14's awards lock the same advisors' points accounts (and the budget) as the settlements.
    const [settlements] = await Promise.all([
      Promise.all([1, 2, 3].map(() => settlePeriod(prisma, period(branchId)))),
      Promise.all(
        advisors.flatMap((id) => [1, 2].map(() => award(prisma, { branchId, advisorId: id, ruleId: "five_stars", points: 100, at: "2026-03-30T12:00:00Z" }))),
      ),
    ]);

    expect(settlements.filter((r) => r.created)).toHaveLength(1);
    expect(settlements[0]!.settlement.report.totals).toEqual({ points: 78, awards: 12, advisors: 12 });
    const after = await snapshot(prisma, branchId, advisors);
    expect(after).toMatchObject({ settlementTransactions: 12, settlements: 1 });
    for (const [i, id] of advisors.entries()) {
      expect([after.balances[accountCode.advisorPoints(id)], after.balances[accountCode.advisorPayable(id)]]).toEqual([200, i + 1]);
    }
    const codes = advisors.flatMap((id) => [accountCode.advisorPoints(id), accountCode.advisorPayable(id)]);
    expect(await verifyLedger(prisma, { accountCodes: [...codes, accountCode.branchBudget(branchId)] })).toEqual([]);
  });

  it("never moves an advisor twice under the period's key, even without a Settlement row", async () => {
    const prisma = db.prisma;
    const { branchId, a, b, advisors } = await seedWeek();
    // A move already on the ledger under this period's key (made by hand, or by an older version):
    // the idempotency key makes the settlement take it as done rather than move the points again.
    const earlier = await postTransaction(prisma, {
      idempotencyKey: settlementIdempotencyKey(branchId, W13.key, a),
      kind: "settlement",
      branchId,
      postings: [
        { accountCode: accountCode.advisorPoints(a), amount: -22 },
        { accountCode: accountCode.advisorPayable(a), amount: 22 },
      ],
    });
    expect(earlier).toMatchObject({ ok: true, duplicate: false });

    const result = await settlePeriod(prisma, period(branchId));

    expect(result.created).toBe(true);
    expect(result.settlement.report.advisors).toEqual([
      { advisorId: a, points: 22, awards: 3, byRule: { first_response: 17, five_stars: 5 } },
      { advisorId: b, points: 4, awards: 1, byRule: { first_response: 4 } },
    ]);
    const after = await snapshot(prisma, branchId, advisors);
    expect(after.settlementTransactions).toBe(2); // the earlier one and b's
    expect(after.balances).toMatchObject({ [accountCode.advisorPoints(a)]: 100, [accountCode.advisorPayable(a)]: 22, [accountCode.advisorPayable(b)]: 4 });
  });

  it("moves what there is when the points balance is short after a reversal, and says so", async () => {
    const prisma = db.prisma;
    const { branchId, advisor } = await newBranch(prisma);
    const [d, e] = [advisor("d"), advisor("e")];
    await fundBudget(prisma, { branchId, points: 100, periodKey: W13.key });
    const reversedTen = await award(prisma, { branchId, advisorId: d, ruleId: "first_response", points: 10, at: "2026-03-24T09:00:00Z" });
    await award(prisma, { branchId, advisorId: d, ruleId: "five_stars", points: 5, at: "2026-03-24T10:00:00Z" });
    const reversedThree = await award(prisma, { branchId, advisorId: e, ruleId: "first_response", points: 3, at: "2026-03-25T09:00:00Z" });
    // Reversals correct the ledger; the award decisions stay "posted" (the ledger is append-only).
    for (const [id, key] of [
      [reversedTen, "d"],
      [reversedThree, "e"],
    ] as const) {
      expect(await reverseTransaction(prisma, { transactionId: id, idempotencyKey: `rev:${branchId}:${key}` })).toMatchObject({ ok: true });
    }

    const result = await settlePeriod(prisma, period(branchId));

    expect(result.settlement.report).toEqual({
      branchId,
      period: { key: "2026-W13", start: "2026-03-23T00:00:00.000Z", end: "2026-03-29T23:00:00.000Z" },
      advisors: [
        {
          advisorId: d,
          points: 5,
          awards: 2,
          byRule: { first_response: 10, five_stars: 5 },
          shortfall: 10,
          note: "the points balance covered 5 of 15 awarded points",
        },
        { advisorId: e, points: 0, awards: 1, byRule: { first_response: 3 }, shortfall: 3, note: "the points balance covered 0 of 3 awarded points" },
      ],
      totals: { points: 5, awards: 3, advisors: 2 },
    });
    expect(result.settlement.csv).toBe(`advisor_id,points,awards\r\n${d},5,2\r\n${e},0,1\r\n`);
    const after = await snapshot(prisma, branchId, [d, e]);
    expect(after.balances).toEqual({
      [accountCode.advisorPoints(d)]: 0,
      [accountCode.advisorPayable(d)]: 5,
      [accountCode.advisorPoints(e)]: 0,
      [accountCode.advisorPayable(e)]: 0,
    });
    expect(after.settlementTransactions).toBe(1); // nothing to move for e: no empty transaction
  });

  it("closes an empty period with an empty report", async () => {
    const prisma = db.prisma;
    const { branchId } = await newBranch(prisma);
    const result = await settlePeriod(prisma, period(branchId));
    expect(result.created).toBe(true);
    expect(result.settlement.report).toEqual({
      branchId,
      period: { key: "2026-W13", start: "2026-03-23T00:00:00.000Z", end: "2026-03-29T23:00:00.000Z" },
      advisors: [],
      totals: { points: 0, awards: 0, advisors: 0 },
    });
    expect(result.settlement.csv).toBe("advisor_id,points,awards\r\n");
    const racing = await Promise.all([1, 2].map(() => settlePeriod(prisma, period(branchId, NOW + 1))));
    expect(racing.map((r) => [r.created, r.settlement.id])).toEqual([
      [false, result.settlement.id],
      [false, result.settlement.id],
    ]);
    expect(await prisma.settlement.count({ where: { branchId } })).toBe(1);
  });

  it("refuses an unknown branch and a malformed period, writing nothing", async () => {
    const prisma = db.prisma;
    const { branchId } = await newBranch(prisma);
    await expect(settlePeriod(prisma, period(`brn_nope${uniqueTag()}`))).rejects.toThrow(RangeError);
    await expect(settlePeriod(prisma, { ...period(branchId), end: W13.start })).rejects.toThrow(RangeError);
    await expect(settlePeriod(prisma, { ...period(branchId), key: "" })).rejects.toThrow(RangeError);
    expect(await prisma.settlement.count({ where: { branchId } })).toBe(0);
  });
}

function dueBranchesSuite(backend: Backend) {
  let db: Database;
  beforeAll(async () => {
    db = await backend.openPrivate();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("settles each branch's last closed local week once, waits for evaluation, and logs a line per branch", async () => {
    const prisma = db.prisma;
    const london = await newBranch(prisma, LONDON);
    const shanghai = await newBranch(prisma, "Asia/Shanghai");
    const newYork = await newBranch(prisma, "America/New_York");
    const broken = await newBranch(prisma, "Not/A_Zone");
    for (const { branchId } of [london, shanghai]) await fundBudget(prisma, { branchId, points: 100, periodKey: W13.key });
    const [l, s] = [london.advisor("l"), shanghai.advisor("s")];
    await award(prisma, { branchId: london.branchId, advisorId: l, ruleId: "first_response", points: 6, at: "2026-03-29T20:00:00Z" });
    // Shanghai's week 13 ended at 2026-03-29T16:00Z (Monday 00:00 +08:00): 15:00Z is in, 17:00Z is week 14.
    await award(prisma, { branchId: shanghai.branchId, advisorId: s, ruleId: "first_response", points: 9, at: "2026-03-29T15:00:00Z" });
    await award(prisma, { branchId: shanghai.branchId, advisorId: s, ruleId: "first_response", points: 2, at: "2026-03-29T17:00:00Z" });
    // New York has an event of its week the incentive consumer has not evaluated yet.
    const pending = await prisma.eventLog.create({
      data: { id: `evt_st${newYork.tag}`, type: "offer.accepted", at: new Date("2026-03-27T12:00:00Z"), branchId: newYork.branchId, data: {} },
    });

    const { logger, entries } = capturingLogger();
    const first = await settleDueBranches(prisma, { now: NOW, logger });

    expect(first).toEqual({ branches: 4, settled: 2, alreadySettled: 0, waiting: 1, failed: 1 });
    const settledLines = () => entries.filter((e) => typeof e.msg === "string" && e.msg.startsWith("settled incentive period"));
    // Branches go in id order; the ids are random, so compare by branch.
    expect(Object.fromEntries(settledLines().map((e) => [e.branchId, [e.period, e.advisors, e.points]]))).toEqual({
      [london.branchId]: ["2026-W13", 1, 6],
      [shanghai.branchId]: ["2026-W13", 1, 9],
    });
    expect(settledLines()).toHaveLength(2);
    expect(entries.filter((e) => e.msg === "incentive settlement waits for evaluation to catch up").map((e) => e.branchId)).toEqual([newYork.branchId]);
    expect(entries.filter((e) => e.level === 50).map((e) => e.branchId)).toEqual([broken.branchId]);
    expect(await balanceOf(prisma, accountCode.advisorPayable(s))).toBe(9);
    expect(await balanceOf(prisma, accountCode.advisorPoints(s))).toBe(2);
    const shanghaiSettlement = await prisma.settlement.findFirstOrThrow({ where: { branchId: shanghai.branchId } });
    expect([shanghaiSettlement.periodStart, shanghaiSettlement.periodEnd]).toEqual([new Date("2026-03-22T16:00:00Z"), new Date("2026-03-29T16:00:00Z")]);

    // The next hour: nothing new to settle, nothing logged as settled.
    entries.length = 0;
    expect(await settleDueBranches(prisma, { now: NOW + 3_600_000, logger })).toEqual({ branches: 4, settled: 0, alreadySettled: 2, waiting: 1, failed: 1 });
    expect(settledLines()).toEqual([]);

    // Evaluation catches up: New York's week is settled (empty: the event earned nothing).
    await prisma.eventCursor.create({ data: { consumer: INCENTIVE_CONSUMER, lastSeq: pending.seq } });
    entries.length = 0;
    expect(await settleDueBranches(prisma, { now: NOW + 7_200_000, logger })).toEqual({ branches: 4, settled: 1, alreadySettled: 2, waiting: 0, failed: 1 });
    expect(settledLines().map((e) => e.branchId)).toEqual([newYork.branchId]);
    const newYorkSettlement = await prisma.settlement.findFirstOrThrow({ where: { branchId: newYork.branchId } });
    expect(newYorkSettlement.periodStart).toEqual(new Date("2026-03-23T04:00:00Z"));
    expect(await prisma.settlement.count()).toBe(3);
  });

  it("stops between branches when told to (leadership lost, shutting down)", async () => {
    const prisma = db.prisma;
    await newBranch(prisma, LONDON);
    const before = await prisma.settlement.count();
    const run = await settleDueBranches(prisma, { now: t("2026-06-15T12:00:00Z"), logger: silent, shouldContinue: () => false });
    expect(run).toMatchObject({ settled: 0, alreadySettled: 0, waiting: 0, failed: 0 });
    expect(await prisma.settlement.count()).toBe(before);
  });
}

describe("settlement CSV", () => {
  it("quotes fields as RFC 4180 asks, and only when needed", () => {
    expect(csvField("adv_1")).toBe("adv_1");
    expect(csvField(42)).toBe("42");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\r\nlines")).toBe('"two\r\nlines"');
    const advisors = [
      { advisorId: "b,2", points: 1, awards: 1, byRule: {} },
      { advisorId: "a", points: 20, awards: 3, byRule: {} },
    ];
    expect(settlementCsv({ advisors })).toBe('advisor_id,points,awards\r\na,20,3\r\n"b,2",1,1\r\n');
  });
});

const pgliteBackend: Backend = { open: openMigratedPglite, openPrivate: openMigratedPglite };
const postgresBackend: Backend = { open: openTestPostgres, openPrivate: openScratchPostgres };
const postgresProblem = await probePostgres();

describe("settlePeriod on embedded PGlite", () => settlementSuite(pgliteBackend));
describeWithServices("settlePeriod on PostgreSQL", [postgresProblem], () => settlementSuite(postgresBackend));
describe("settleDueBranches on embedded PGlite", () => dueBranchesSuite(pgliteBackend));
describeWithServices("settleDueBranches on a private PostgreSQL database", [postgresProblem], () => dueBranchesSuite(postgresBackend));

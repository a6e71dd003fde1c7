/**
 * The incentive ledger, on embedded PGlite and on PostgreSQL: double entry, idempotency, reversals,
 * the budget floor, award decisions, and a concurrent award storm checked against invariants that a
 * deliberately broken writer is shown to violate. Tests isolate by fresh branch and advisor ids; the
 * broken writers run in a private database (a scratch PostgreSQL database, or a throw-away PGlite)
 * so the shared test database never holds a corrupted ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type Database, type PrismaClient } from "../../platform/database.ts";
import { seededRandom } from "../../core/random.ts";
import { accountCode, accountSpecFor, ensureAccounts, type AccountSpec } from "../../incentives/ledger/accounts.ts";
import { isUniqueViolation } from "../../platform/databaseErrors.ts";
import { LEDGER_TRANSACTION_OPTIONS, postTransaction, reverseTransaction } from "../../incentives/ledger/post.ts";
import { awardIdempotencyKey, fundBudget, postAward, recordSkippedAward, type AwardInput, type AwardResult } from "../../incentives/ledger/awards.ts";
import { balanceOf, verifyLedger } from "../../incentives/ledger/balances.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { createScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, TEST_DATABASE_URL, uniqueTag } from "../support/services.ts";

interface Backend {
  /** The database the suite shares with other suites (PostgreSQL: a pool of 10 connections). */
  open(): Promise<Database>;
  /** A private database that may be left inconsistent. */
  openSandbox(): Promise<Database>;
  /** True when the driver runs one transaction at a time, so reads inside a transaction cannot race. */
  serialisesTransactions: boolean;
}

const RULE = "first_response";
const AT = new Date(Date.UTC(2026, 10, 23, 9));

async function newBranch(prisma: PrismaClient) {
  const tag = uniqueTag();
  const branchId = `brn_l${tag}`;
  await prisma.branch.create({ data: { id: branchId, name: "Ledger test", region: `r${tag}` } });
  return { tag, branchId, budget: accountCode.branchBudget(branchId), advisor: (i = 0) => `adv_l${tag}_${i}` };
}

function award(branchId: string, advisorId: string, eventId: string, points: number): AwardInput {
  return { eventId, ruleId: RULE, ruleSetVersion: 1, branchId, advisorId, points, at: AT };
}

// ---------------------------------------------------------------------------------------------
// The award storm: many concurrent deliveries, then every invariant the ledger promises.

interface StormOptions {
  events: number;
  duplicates: number;
  funding: number;
  advisors: number;
  seed: number;
}

interface Storm {
  branchId: string;
  funding: number;
  events: AwardInput[];
  deliveries: AwardInput[];
  settled: Array<PromiseSettledResult<AwardResult>>;
  /** Infrastructure errors that were redelivered, by message. */
  faults: Map<string, number>;
  ms: number;
}

/**
 * Attempts per delivery for a fault other than a pool wait. The ledger throws only on infrastructure
 * faults, and the event consumer redelivers after one, as this does.
 */
const ATTEMPTS = 5;
/**
 * A 600-award burst on one budget through a pool of 10 queues for connections; on a loaded runner
 * the queue is longer than platform/database.ts waits for one (DEFAULT_DATABASE_TIMEOUT_MS, 2 s), and
 * a fixed number of attempts was not enough (CI once saw 65 of 600 deliveries fail five times). Such a
 * delivery is redelivered, after a jittered pause so the retries do not queue up together again,
 * until this deadline: it only adds duplicates for the invariants to absorb.
 */
const POOL_WAIT_DEADLINE_MS = 90_000;
const POOL_WAIT = /timeout exceeded when trying to connect/;

type AwardPoster = (prisma: PrismaClient, input: AwardInput) => Promise<AwardResult>;

async function runStorm(prisma: PrismaClient, poster: AwardPoster, options: StormOptions): Promise<Storm> {
  const { branchId, tag } = await newBranch(prisma);
  const funded = await fundBudget(prisma, { branchId, points: options.funding, periodKey: "2026-11" });
  expect(funded).toMatchObject({ ok: true, duplicate: false });
  const random = seededRandom(options.seed);
  const events = Array.from({ length: options.events }, (_, i) =>
    award(branchId, `adv_s${tag}_${Math.floor(random() * options.advisors)}`, `evt_s${tag}_${i}`, 1 + Math.floor(random() * 10)),
  );
  const duplicates = Array.from({ length: options.duplicates }, () => ({ ...events[Math.floor(random() * events.length)]! }));
  const deliveries = [...events, ...duplicates];
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
  }
  const faults = new Map<string, number>();
  const started = performance.now();
  const deliver = async (input: AwardInput): Promise<AwardResult> => {
    for (let attempt = 1, otherFaults = 0; ; attempt++) {
      try {
        return await poster(prisma, input);
      } catch (error) {
        const message = (error as Error).message.split("\n").filter(Boolean).pop() ?? String(error);
        const poolWait = POOL_WAIT.test(message);
        if (!poolWait) otherFaults++;
        if (otherFaults === ATTEMPTS || (poolWait && performance.now() - started > POOL_WAIT_DEADLINE_MS)) throw error;
        faults.set(message, (faults.get(message) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 100 * Math.min(attempt, 10) * (0.5 + random())));
      }
    }
  };
  const settled = await Promise.allSettled(deliveries.map(deliver));
  return { branchId, funding: options.funding, events, deliveries, settled, faults, ms: Math.round(performance.now() - started) };
}

interface StormReport {
  violations: string[];
  posted: number;
  skipped: number;
  postedPoints: number;
  finalBudget: number;
}

/** Everything that must hold after a storm, as readable violations (empty: the ledger held). */
async function checkStorm(prisma: PrismaClient, storm: Storm): Promise<StormReport> {
  const violations: string[] = [];
  const budget = accountCode.branchBudget(storm.branchId);

  // Waiting too long for a pool connection is the one fault a burst may cause; anything else (a
  // CHECK violation, a deadlock, a timed-out transaction) means the writer got concurrency wrong.
  for (const [message, count] of storm.faults) if (!POOL_WAIT.test(message)) violations.push(`${count} faults: ${message}`);
  const failed = storm.settled.filter((s) => s.status === "rejected");
  if (failed.length) violations.push(`${failed.length} deliveries threw, e.g. ${String((failed[0] as PromiseRejectedResult).reason)}`);
  // Every delivery of an event answers with the same decision, and at most one claims to have made it.
  const answers = new Map<string, Set<string>>();
  const firstDecisions = new Map<string, number>();
  storm.settled.forEach((s, i) => {
    if (s.status !== "fulfilled") return;
    if (!s.value.ok) {
      violations.push(`delivery ${i} refused: ${s.value.reason}`);
      return;
    }
    const d = s.value.decision;
    const key = `${storm.deliveries[i]!.eventId}/${storm.deliveries[i]!.ruleId}`;
    answers.set(key, (answers.get(key) ?? new Set()).add(`${d.id}:${d.status}:${d.transactionId}`));
    if (!s.value.duplicate) firstDecisions.set(key, (firstDecisions.get(key) ?? 0) + 1);
  });
  for (const [key, seen] of answers) if (seen.size > 1) violations.push(`deliveries of ${key} got different decisions: ${[...seen].join(" | ")}`);
  for (const [key, count] of firstDecisions) if (count > 1) violations.push(`${count} deliveries of ${key} each claim to have decided it`);
  if (answers.size !== storm.events.length) violations.push(`${answers.size} of ${storm.events.length} events got a decision`);

  const awards = await prisma.incentiveAward.findMany({ where: { branchId: storm.branchId } });
  const perEvent = new Map<string, number>();
  for (const a of awards) perEvent.set(`${a.eventId}/${a.ruleId}`, (perEvent.get(`${a.eventId}/${a.ruleId}`) ?? 0) + 1);
  for (const [key, count] of perEvent) if (count > 1) violations.push(`${count} decisions for ${key}`);
  const posted = awards.filter((a) => a.status === "posted");
  const skipped = awards.filter((a) => a.status === "skipped");
  if (posted.length + skipped.length !== storm.events.length)
    violations.push(`${posted.length} posted + ${skipped.length} skipped != ${storm.events.length} events`);
  if (skipped.some((a) => a.reason !== "budget_exhausted")) violations.push("a skip with a reason other than budget_exhausted");

  const transactions = await prisma.ledgerTransaction.findMany({
    where: { branchId: storm.branchId, kind: "award" },
    include: { postings: { include: { account: { select: { code: true } } } } },
  });
  const byKey = new Map<string, (typeof transactions)[number]>();
  for (const t of transactions) {
    if (byKey.has(t.idempotencyKey)) violations.push(`two transactions for ${t.idempotencyKey}`);
    byKey.set(t.idempotencyKey, t);
    const sum = t.postings.reduce((s, p) => s + p.amount, 0);
    if (sum !== 0 || t.postings.length < 2) violations.push(`transaction ${t.id} does not balance (${t.postings.length} postings, sum ${sum})`);
  }
  if (transactions.length !== posted.length) violations.push(`${transactions.length} award transactions for ${posted.length} posted decisions`);
  const advisorTotals = new Map<string, number>();
  for (const a of posted) {
    advisorTotals.set(a.advisorId, (advisorTotals.get(a.advisorId) ?? 0) + a.points);
    const t = byKey.get(awardIdempotencyKey(a.eventId, a.ruleId));
    if (!t || t.id !== a.transactionId) violations.push(`posted decision ${a.id} does not point at its ledger transaction`);
    else if (t.postings.find((p) => p.account.code === budget)?.amount !== -a.points)
      violations.push(`transaction ${t.id} did not take ${a.points} from the budget`);
  }

  const postedPoints = posted.reduce((s, a) => s + a.points, 0);
  const finalBudget = await balanceOf(prisma, budget);
  if (finalBudget < 0) violations.push(`budget is negative: ${finalBudget}`);
  if (postedPoints > storm.funding) violations.push(`awarded ${postedPoints} points from a budget of ${storm.funding}`);
  if (finalBudget !== storm.funding - postedPoints) violations.push(`budget balance ${finalBudget} != ${storm.funding} funded - ${postedPoints} awarded`);
  // The budget only shrinks during a storm, so each skip had less available than it asked for, and
  // the final balance is lower still: a skip below it was not forced by the budget.
  for (const a of skipped) if (a.points <= finalBudget) violations.push(`skipped ${a.points} points while ${finalBudget} remained`);
  for (const [advisorId, total] of advisorTotals) {
    const balance = await balanceOf(prisma, accountCode.advisorPoints(advisorId));
    if (balance !== total) violations.push(`${advisorId} holds ${balance} points, was awarded ${total}`);
  }

  const codes = [budget, ...new Set(storm.events.map((e) => accountCode.advisorPoints(e.advisorId)))];
  for (const problem of await verifyLedger(prisma, { accountCodes: codes })) violations.push(`verifyLedger: ${JSON.stringify(problem)}`);
  return { violations, posted: posted.length, skipped: skipped.length, postedPoints, finalBudget };
}

// ---------------------------------------------------------------------------------------------
// Broken writers the storm checks must catch: both decide from a balance read in Node and write the
// result back, instead of locking the row and adding to it.

/** Shared body: `read` supplies the balances, the transaction writes them back as absolute values. */
async function writeBack(prisma: PrismaClient, input: AwardInput, readInside: boolean): Promise<AwardResult> {
  const budgetCode = accountCode.branchBudget(input.branchId);
  const pointsCode = accountCode.advisorPoints(input.advisorId);
  const specs = [accountSpecFor(budgetCode)!, accountSpecFor(pointsCode, input.branchId)!];
  const read = async (client: Pick<PrismaClient, "ledgerAccount">) => {
    await ensureAccounts(client, specs);
    const [budget, points] = await Promise.all([budgetCode, pointsCode].map((code) => client.ledgerAccount.findUniqueOrThrow({ where: { code } })));
    return { budget: budget!, points: points! };
  };
  const before = readInside ? null : await read(prisma);
  const where = { eventId_ruleId: { eventId: input.eventId, ruleId: input.ruleId } };
  try {
    return await prisma.$transaction(async (tx): Promise<AwardResult> => {
      const earlier = await tx.incentiveAward.findUnique({ where });
      if (earlier) return { ok: true, duplicate: true, decision: { ...earlier, status: earlier.status as "posted" | "skipped" } };
      const { budget, points } = before ?? (await read(tx));
      const base = { ...input, id: `awd_m${uniqueTag()}${uniqueTag()}` };
      if (budget.balance < input.points) {
        const row = await tx.incentiveAward.create({ data: { ...base, status: "skipped", reason: "budget_exhausted" } });
        return { ok: true, duplicate: false, decision: { ...row, status: "skipped" } };
      }
      const transactionId = `txn_m${uniqueTag()}${uniqueTag()}`;
      await tx.ledgerTransaction.create({
        data: { id: transactionId, idempotencyKey: awardIdempotencyKey(input.eventId, input.ruleId), kind: "award", branchId: input.branchId },
      });
      await tx.ledgerPosting.createMany({
        data: [
          { transactionId, accountId: budget.id, amount: -input.points },
          { transactionId, accountId: points.id, amount: input.points },
        ],
      });
      await tx.ledgerAccount.update({ where: { id: budget.id }, data: { balance: budget.balance - input.points } });
      await tx.ledgerAccount.update({ where: { id: points.id }, data: { balance: points.balance + input.points } });
      const row = await tx.incentiveAward.create({ data: { ...base, status: "posted", transactionId } });
      return { ok: true, duplicate: false, decision: { ...row, status: "posted" } };
    }, LEDGER_TRANSACTION_OPTIONS);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const earlier = await prisma.incentiveAward.findUniqueOrThrow({ where });
    return { ok: true, duplicate: true, decision: { ...earlier, status: earlier.status as "posted" | "skipped" } };
  }
}

const readBeforeTransaction: AwardPoster = (prisma, input) => writeBack(prisma, input, false);
const readInTransactionWithoutLock: AwardPoster = (prisma, input) => writeBack(prisma, input, true);

// ---------------------------------------------------------------------------------------------

function ledgerSuite(backend: Backend) {
  let db: Database;
  let prisma: PrismaClient;
  beforeAll(async () => {
    db = await backend.open();
    prisma = db.prisma;
  });
  afterAll(async () => {
    await db?.close();
  });

  describe("postTransaction", () => {
    it("refuses too few, zero, fractional, oversized and unbalanced postings, and unknown codes, writing nothing", async () => {
      const { tag, budget, advisor } = await newBranch(prisma);
      const points = accountCode.advisorPoints(advisor());
      const cases = [
        { postings: [], reason: "TOO_FEW_POSTINGS" },
        { postings: [{ accountCode: budget, amount: 5 }], reason: "TOO_FEW_POSTINGS" },
        {
          postings: [
            { accountCode: budget, amount: 0 },
            { accountCode: points, amount: 0 },
          ],
          reason: "INVALID_AMOUNT",
        },
        {
          postings: [
            { accountCode: budget, amount: -1.5 },
            { accountCode: points, amount: 1.5 },
          ],
          reason: "INVALID_AMOUNT",
        },
        {
          postings: [
            { accountCode: budget, amount: -(2 ** 31) },
            { accountCode: points, amount: 2 ** 31 },
          ],
          reason: "INVALID_AMOUNT",
        },
        {
          postings: [
            { accountCode: budget, amount: Number.NaN },
            { accountCode: points, amount: 1 },
          ],
          reason: "INVALID_AMOUNT",
        },
        {
          postings: [
            { accountCode: budget, amount: 5 },
            { accountCode: points, amount: -4 },
          ],
          reason: "UNBALANCED",
        },
        {
          postings: [
            { accountCode: budget, amount: 5 },
            { accountCode: points, amount: -2 },
            { accountCode: points, amount: -2 },
          ],
          reason: "UNBALANCED",
        },
        {
          postings: [
            { accountCode: budget, amount: 5 },
            { accountCode: "cash:everything", amount: -5 },
          ],
          reason: "UNKNOWN_ACCOUNT",
        },
        {
          postings: [
            { accountCode: budget, amount: 5 },
            { accountCode: "advisor_points:a:b", amount: -5 },
          ],
          reason: "UNKNOWN_ACCOUNT",
        },
      ];
      for (const [i, c] of cases.entries()) {
        const result = await postTransaction(prisma, { idempotencyKey: `bad:${tag}:${i}`, kind: "test", postings: c.postings });
        expect(result, `case ${i}`).toMatchObject({ ok: false, reason: c.reason });
      }
      expect(await postTransaction(prisma, { idempotencyKey: "", kind: "test", postings: [] })).toEqual({ ok: false, reason: "MISSING_IDEMPOTENCY_KEY" });
      expect(await prisma.ledgerTransaction.count({ where: { idempotencyKey: { startsWith: `bad:${tag}:` } } })).toBe(0);
      expect(await prisma.ledgerAccount.count({ where: { code: { in: [budget, points] } } })).toBe(0);
    });

    it("creates accounts once, even when many writers ask at the same time", async () => {
      const { branchId, budget, advisor } = await newBranch(prisma);
      const specs: AccountSpec[] = [
        accountSpecFor(budget)!,
        accountSpecFor(accountCode.advisorPoints(advisor()), branchId)!,
        accountSpecFor(accountCode.advisorPayable(advisor()), branchId)!,
      ];
      const answers = await Promise.all(Array.from({ length: 8 }, () => ensureAccounts(prisma, specs)));
      for (const ids of answers) expect([...ids.entries()].sort()).toEqual([...answers[0]!.entries()].sort());
      const rows = await prisma.ledgerAccount.findMany({ where: { code: { in: specs.map((s) => s.code) } } });
      expect(rows.map((r) => [r.code, r.kind, r.ownerId, r.branchId, r.balance]).sort()).toEqual(
        [
          [budget, "branch_budget", branchId, branchId, 0],
          [accountCode.advisorPoints(advisor()), "advisor_points", advisor(), branchId, 0],
          [accountCode.advisorPayable(advisor()), "advisor_payable", advisor(), branchId, 0],
        ].sort(),
      );
    });

    it("applies an idempotency key once, sequentially and concurrently", async () => {
      const { tag, branchId, budget, advisor } = await newBranch(prisma);
      const fund = () => fundBudget(prisma, { branchId, points: 100, periodKey: `p${tag}` });
      const first = await fund();
      expect(first).toMatchObject({ ok: true, duplicate: false });
      const again = await Promise.all([fund(), fund(), fund(), fund(), fund()]);
      for (const r of again) expect(r).toEqual({ ok: true, duplicate: true, transactionId: first.ok && first.transactionId });
      expect(await balanceOf(prisma, budget)).toBe(100);

      // A burst of the same new key: the row locks (or, failing them, the unique index) let one through.
      const key = `burst:${tag}`;
      const move = () =>
        postTransaction(prisma, {
          idempotencyKey: key,
          kind: "test",
          branchId,
          postings: [
            { accountCode: budget, amount: -7 },
            { accountCode: accountCode.advisorPoints(advisor()), amount: 7 },
          ],
        });
      const burst = await Promise.all(Array.from({ length: 10 }, move));
      expect(burst.filter((r) => r.ok && !r.duplicate)).toHaveLength(1);
      expect(new Set(burst.map((r) => r.ok && r.transactionId)).size).toBe(1);

      // Same key on disjoint accounts: no shared lock orders them, so the unique index must decide.
      // The inputs differ (each names its own advisor's accounts): one wins, the others conflict with it.
      const shared = `disjoint:${tag}`;
      const disjoint = await Promise.all(
        [advisor(1), advisor(2), advisor(3), advisor(4)].map((a) =>
          postTransaction(prisma, {
            idempotencyKey: shared,
            kind: "test",
            postings: [
              { accountCode: accountCode.advisorPayable(a), amount: -1 },
              { accountCode: accountCode.advisorPoints(a), amount: 1 },
            ],
          }),
        ),
      );
      const winners = disjoint.filter((r) => r.ok && !r.duplicate);
      expect(winners).toHaveLength(1);
      const winnerId = winners[0]!.ok && winners[0]!.transactionId;
      expect(disjoint.filter((r) => !r.ok)).toEqual(Array.from({ length: 3 }, () => ({ ok: false, reason: "IDEMPOTENCY_CONFLICT", transactionId: winnerId })));
      expect(await prisma.ledgerTransaction.count({ where: { idempotencyKey: { in: [key, shared] } } })).toBe(2);

      expect(await balanceOf(prisma, budget)).toBe(93);
      expect(await balanceOf(prisma, accountCode.advisorPoints(advisor()))).toBe(7);
      expect(
        await verifyLedger(prisma, {
          accountCodes: [budget, ...[0, 1, 2, 3, 4].flatMap((i) => [accountCode.advisorPoints(advisor(i)), accountCode.advisorPayable(advisor(i))])],
        }),
      ).toEqual([]);
    });

    it("answers the same key with another input as IDEMPOTENCY_CONFLICT naming the first transaction, and writes nothing", async () => {
      const { tag, branchId, budget, advisor } = await newBranch(prisma);
      await fundBudget(prisma, { branchId, points: 50, periodKey: `p${tag}` });
      const points = accountCode.advisorPoints(advisor());
      const key = `conflict:${tag}`;
      const first = await postTransaction(prisma, {
        idempotencyKey: key,
        kind: "test",
        branchId,
        memo: "first",
        postings: [
          { accountCode: budget, amount: -5 },
          { accountCode: points, amount: 5 },
        ],
      });
      expect(first).toMatchObject({ ok: true, duplicate: false });
      const firstId = first.ok ? first.transactionId : "";
      // The same effect, postings in another order and other wording: a duplicate.
      const same = await postTransaction(prisma, {
        idempotencyKey: key,
        kind: "test",
        branchId,
        memo: "retried",
        postings: [
          { accountCode: points, amount: 5 },
          { accountCode: budget, amount: -5 },
        ],
      });
      expect(same).toEqual({ ok: true, duplicate: true, transactionId: firstId });
      // Another amount, another kind, another branch: each a conflict, sequentially and in a burst.
      const conflicts = await Promise.all([
        postTransaction(prisma, {
          idempotencyKey: key,
          kind: "test",
          branchId,
          postings: [
            { accountCode: budget, amount: -6 },
            { accountCode: points, amount: 6 },
          ],
        }),
        postTransaction(prisma, {
          idempotencyKey: key,
          kind: "other",
          branchId,
          postings: [
            { accountCode: budget, amount: -5 },
            { accountCode: points, amount: 5 },
          ],
        }),
        postTransaction(prisma, {
          idempotencyKey: key,
          kind: "test",
          postings: [
            { accountCode: accountCode.advisorPayable(advisor()), amount: -5 },
            { accountCode: points, amount: 5 },
          ],
        }),
      ]);
      for (const conflict of conflicts) expect(conflict).toEqual({ ok: false, reason: "IDEMPOTENCY_CONFLICT", transactionId: firstId });
      expect(await prisma.ledgerTransaction.count({ where: { idempotencyKey: key } })).toBe(1);
      expect(await balanceOf(prisma, budget)).toBe(45);
      expect(await balanceOf(prisma, points)).toBe(5);
      // A key stored before input hashes existed (null) still answers as a duplicate.
      const legacy = await prisma.ledgerTransaction.findUniqueOrThrow({ where: { idempotencyKey: `fund:${branchId}:p${tag}` }, select: { inputHash: true } });
      expect(legacy.inputHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it("refuses UPDATE and DELETE of posted transactions and postings, and any change to an account but its balance", async () => {
      const { tag, branchId, budget } = await newBranch(prisma);
      const funded = await fundBudget(prisma, { branchId, points: 10, periodKey: `p${tag}` });
      const transactionId = funded.ok ? funded.transactionId : "";
      const posting = await prisma.ledgerPosting.findFirstOrThrow({ where: { transactionId } });
      const appendOnly = /append-only/;
      await expect(prisma.ledgerTransaction.update({ where: { id: transactionId }, data: { memo: "rewritten" } })).rejects.toThrow(appendOnly);
      await expect(prisma.$executeRawUnsafe(`DELETE FROM "LedgerTransaction" WHERE id = $1`, transactionId)).rejects.toThrow(appendOnly);
      await expect(prisma.$executeRawUnsafe(`UPDATE "LedgerPosting" SET amount = amount + 1 WHERE id = $1`, posting.id)).rejects.toThrow(appendOnly);
      await expect(prisma.ledgerPosting.deleteMany({ where: { transactionId } })).rejects.toThrow(appendOnly);
      await expect(prisma.ledgerAccount.deleteMany({ where: { code: budget } })).rejects.toThrow(appendOnly);
      await expect(prisma.ledgerAccount.update({ where: { code: budget }, data: { ownerId: "brn_elsewhere" } })).rejects.toThrow(/balance only/);
      // Nothing changed, and the balance still moves by posting.
      expect(await prisma.ledgerPosting.count({ where: { transactionId } })).toBe(2);
      expect(await balanceOf(prisma, budget)).toBe(10);
      expect(await verifyLedger(prisma, { accountCodes: [budget] })).toEqual([]);
    });

    it("never takes a branch budget below zero: refuses with what is available and writes nothing", async () => {
      const { tag, branchId, budget, advisor } = await newBranch(prisma);
      const points = accountCode.advisorPoints(advisor());
      const take = (amount: number, key: string) =>
        postTransaction(prisma, {
          idempotencyKey: `${key}:${tag}`,
          kind: "test",
          branchId,
          postings: [
            { accountCode: budget, amount: -amount },
            { accountCode: points, amount },
          ],
        });

      expect(await take(1, "unfunded")).toEqual({ ok: false, reason: "INSUFFICIENT_BUDGET", accountCode: budget, available: 0, requested: 1 });
      expect(await prisma.ledgerAccount.count({ where: { code: { in: [budget, points] } } })).toBe(0);

      await fundBudget(prisma, { branchId, points: 10, periodKey: "p1" });
      expect(await take(11, "over")).toEqual({ ok: false, reason: "INSUFFICIENT_BUDGET", accountCode: budget, available: 10, requested: 11 });
      expect(await prisma.ledgerTransaction.count({ where: { idempotencyKey: `over:${tag}` } })).toBe(0);
      expect(await balanceOf(prisma, budget)).toBe(10);
      expect(await prisma.ledgerAccount.count({ where: { code: points } })).toBe(0);

      expect(await take(10, "exact")).toMatchObject({ ok: true, duplicate: false });
      expect(await take(1, "after")).toMatchObject({ ok: false, reason: "INSUFFICIENT_BUDGET", available: 0 });
      // Refused keys are not burnt: the same key succeeds once the budget allows it.
      await fundBudget(prisma, { branchId, points: 5, periodKey: "p2" });
      expect(await take(1, "after")).toMatchObject({ ok: true, duplicate: false });
      expect(await balanceOf(prisma, budget)).toBe(4);
      expect(await balanceOf(prisma, points)).toBe(11);
    });

    it("refuses, as a value, an account in a branch that does not exist", async () => {
      const tag = uniqueTag();
      const result = await fundBudget(prisma, { branchId: `brn_missing${tag}`, points: 5, periodKey: "p" });
      expect(result).toEqual({ ok: false, reason: "UNKNOWN_BRANCH" });
      expect(await prisma.ledgerTransaction.count({ where: { branchId: `brn_missing${tag}` } })).toBe(0);
    });
  });

  describe("reverseTransaction", () => {
    it("restores the balances with a negating transaction, and reverses a transaction only once", async () => {
      const { tag, branchId, budget, advisor } = await newBranch(prisma);
      const points = accountCode.advisorPoints(advisor());
      await fundBudget(prisma, { branchId, points: 100, periodKey: "p" });
      const move = (amount: number, key: string) =>
        postTransaction(prisma, {
          idempotencyKey: `${key}:${tag}`,
          kind: "adjustment",
          branchId,
          postings: [
            { accountCode: budget, amount: -amount },
            { accountCode: points, amount },
          ],
        });
      const original = await move(30, "m1");
      if (!original.ok) throw new Error(original.reason);

      const reversal = await reverseTransaction(prisma, { transactionId: original.transactionId, idempotencyKey: `rev:${tag}`, memo: "entered twice" });
      expect(reversal).toMatchObject({ ok: true, duplicate: false });
      if (!reversal.ok) throw new Error(reversal.reason);
      expect([await balanceOf(prisma, budget), await balanceOf(prisma, points)]).toEqual([100, 0]);
      const stored = await prisma.ledgerTransaction.findUniqueOrThrow({
        where: { id: reversal.transactionId },
        include: { postings: { include: { account: true } } },
      });
      expect(stored).toMatchObject({ reversesId: original.transactionId, kind: "reversal", memo: "entered twice", branchId });
      expect(stored.postings.map((p) => [p.account.code, p.amount]).sort()).toEqual(
        [
          [budget, 30],
          [points, -30],
        ].sort(),
      );

      const sameKey = await reverseTransaction(prisma, { transactionId: original.transactionId, idempotencyKey: `rev:${tag}` });
      const otherKey = await reverseTransaction(prisma, { transactionId: original.transactionId, idempotencyKey: `rev2:${tag}` });
      for (const r of [sameKey, otherKey]) expect(r).toEqual({ ok: true, duplicate: true, transactionId: reversal.transactionId });
      expect(await reverseTransaction(prisma, { transactionId: reversal.transactionId, idempotencyKey: `revrev:${tag}` })).toEqual({
        ok: false,
        reason: "IS_A_REVERSAL",
      });
      expect(await reverseTransaction(prisma, { transactionId: `txn_nope${tag}`, idempotencyKey: `revx:${tag}` })).toEqual({ ok: false, reason: "NOT_FOUND" });

      // Concurrent reversals under different keys: exactly one reversal exists afterwards.
      const second = await move(20, "m2");
      if (!second.ok) throw new Error(second.reason);
      const racing = await Promise.all(
        Array.from({ length: 6 }, (_, i) => reverseTransaction(prisma, { transactionId: second.transactionId, idempotencyKey: `race${i}:${tag}` })),
      );
      expect(racing.every((r) => r.ok)).toBe(true);
      expect(racing.filter((r) => r.ok && !r.duplicate)).toHaveLength(1);
      expect(new Set(racing.map((r) => r.ok && r.transactionId)).size).toBe(1);
      expect(await prisma.ledgerTransaction.count({ where: { reversesId: { in: [original.transactionId, second.transactionId] } } })).toBe(2);
      expect([await balanceOf(prisma, budget), await balanceOf(prisma, points)]).toEqual([100, 0]);
      expect(await verifyLedger(prisma, { accountCodes: [budget, points] })).toEqual([]);
    });

    it("refuses to reverse a budget funding that has already been spent", async () => {
      const { branchId, budget, advisor } = await newBranch(prisma);
      const funding = await fundBudget(prisma, { branchId, points: 10, periodKey: "p" });
      if (!funding.ok) throw new Error(funding.reason);
      expect(await postAward(prisma, award(branchId, advisor(), `evt_r${uniqueTag()}`, 7))).toMatchObject({ ok: true, decision: { status: "posted" } });
      const result = await reverseTransaction(prisma, { transactionId: funding.transactionId, idempotencyKey: `unfund:${branchId}` });
      expect(result).toEqual({ ok: false, reason: "INSUFFICIENT_BUDGET", accountCode: budget, available: 3, requested: 10 });
      expect(await balanceOf(prisma, budget)).toBe(3);
    });
  });

  describe("awards", () => {
    it("decides once per (event, rule): posted, skipped for budget, or skipped before the ledger", async () => {
      const { tag, branchId, budget, advisor } = await newBranch(prisma);
      const points = accountCode.advisorPoints(advisor());
      await fundBudget(prisma, { branchId, points: 10, periodKey: "p1" });

      const first = await postAward(prisma, award(branchId, advisor(), `evt_a${tag}`, 6));
      expect(first).toMatchObject({ ok: true, duplicate: false, decision: { status: "posted", points: 6, reason: null } });
      if (!first.ok) throw new Error(first.reason);
      const tx = await prisma.ledgerTransaction.findUniqueOrThrow({ where: { idempotencyKey: awardIdempotencyKey(`evt_a${tag}`, RULE) } });
      expect(first.decision.transactionId).toBe(tx.id);
      // A redelivery, even one that now computes other points, answers with the original decision.
      expect(await postAward(prisma, award(branchId, advisor(), `evt_a${tag}`, 9))).toEqual({ ok: true, duplicate: true, decision: first.decision });

      const starved = await postAward(prisma, award(branchId, advisor(), `evt_b${tag}`, 6));
      expect(starved).toMatchObject({
        ok: true,
        duplicate: false,
        decision: { status: "skipped", reason: "budget_exhausted", transactionId: null, points: 6 },
      });
      expect(await prisma.ledgerTransaction.count({ where: { idempotencyKey: awardIdempotencyKey(`evt_b${tag}`, RULE) } })).toBe(0);
      // Funding later does not turn a recorded skip into a payment on redelivery.
      await fundBudget(prisma, { branchId, points: 50, periodKey: "p2" });
      expect(await postAward(prisma, award(branchId, advisor(), `evt_b${tag}`, 6))).toMatchObject({
        ok: true,
        duplicate: true,
        decision: { status: "skipped", reason: "budget_exhausted" },
      });

      const capped = await recordSkippedAward(prisma, { ...award(branchId, advisor(), `evt_c${tag}`, 4), reason: "daily_cap" });
      expect(capped).toMatchObject({ ok: true, duplicate: false, decision: { status: "skipped", reason: "daily_cap" } });
      expect(await recordSkippedAward(prisma, { ...award(branchId, advisor(), `evt_c${tag}`, 4), reason: "daily_cap" })).toMatchObject({
        ok: true,
        duplicate: true,
      });
      expect(await postAward(prisma, award(branchId, advisor(), `evt_c${tag}`, 4))).toMatchObject({
        ok: true,
        duplicate: true,
        decision: { status: "skipped", reason: "daily_cap" },
      });
      expect(await recordSkippedAward(prisma, { ...award(branchId, advisor(), `evt_a${tag}`, 6), reason: "daily_cap" })).toEqual({
        ok: true,
        duplicate: true,
        decision: first.decision,
      });

      expect(await postAward(prisma, award(branchId, advisor(), `evt_d${tag}`, 0))).toMatchObject({ ok: false, reason: "INVALID_POINTS" });
      expect(await postAward(prisma, award(branchId, advisor(), `evt_d${tag}`, 2.5))).toMatchObject({ ok: false, reason: "INVALID_POINTS" });
      expect(await recordSkippedAward(prisma, { ...award(branchId, advisor(), `evt_d${tag}`, 1), reason: "" })).toEqual({
        ok: false,
        reason: "MISSING_REASON",
      });

      expect(await prisma.incentiveAward.count({ where: { branchId } })).toBe(3);
      expect([await balanceOf(prisma, budget), await balanceOf(prisma, points)]).toEqual([54, 6]);
      expect(await verifyLedger(prisma, { accountCodes: [budget, points] })).toEqual([]);
    });

    it("writes the decision and the ledger entry together or not at all", async () => {
      const tag = uniqueTag();
      const result = await postAward(prisma, award(`brn_gone${tag}`, `adv_x${tag}`, `evt_x${tag}`, 3));
      expect(result).toEqual({ ok: false, reason: "UNKNOWN_BRANCH" });
      expect(await prisma.incentiveAward.count({ where: { eventId: `evt_x${tag}` } })).toBe(0);
      expect(await prisma.ledgerAccount.count({ where: { ownerId: `adv_x${tag}` } })).toBe(0);
    });
  });

  describe("the award storm (acceptance)", () => {
    it("500 concurrent awards and 100 duplicate deliveries against a 2,000-point budget keep every invariant", { timeout: 180_000 }, async () => {
      const storm = await runStorm(prisma, postAward, { events: 500, duplicates: 100, funding: 2_000, advisors: 20, seed: 20261123 });
      const report = await checkStorm(prisma, storm);
      const faults = [...storm.faults].map(([message, count]) => `${count}x ${message}`).join("; ") || "none";
      console.log(
        `[ledger storm, ${db.kind}] ${storm.deliveries.length} deliveries in ${storm.ms} ms: ${report.posted} posted (${report.postedPoints} points), ` +
          `${report.skipped} skipped, budget left ${report.finalBudget}; redelivered after faults: ${faults}`,
      );
      expect(report.violations).toEqual([]);
      expect(report.posted + report.skipped).toBe(500);
      // The storm must exhaust the budget, or the floor was never tested.
      expect(report.skipped).toBeGreaterThan(0);
      expect(report.posted).toBeGreaterThan(0);
    });
  });

  describe("the audit catches broken writers", () => {
    let sandbox: Database;
    beforeAll(async () => {
      sandbox = await backend.openSandbox();
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it("verifyLedger reports an unbalanced transaction, a stray balance and a posted award without its transaction", async () => {
      const p = sandbox.prisma;
      const { tag, branchId, budget, advisor } = await newBranch(p);
      await fundBudget(p, { branchId, points: 10, periodKey: "p" });
      const points = accountCode.advisorPoints(advisor());
      const [pointsId] = [...(await ensureAccounts(p, [accountSpecFor(points, branchId)!])).values()];
      await p.ledgerTransaction.create({
        data: { id: `txn_bad${tag}`, idempotencyKey: `bad:${tag}`, kind: "test", postings: { create: [{ accountId: pointsId!, amount: 5 }] } },
      });
      await p.ledgerAccount.update({ where: { code: budget }, data: { balance: 9 } });
      await p.incentiveAward.create({
        data: { ...award(branchId, advisor(), `evt_o${tag}`, 1), id: `awd_o${tag}`, status: "posted", transactionId: `txn_none${tag}` },
      });

      const problems = await verifyLedger(p, { accountCodes: [budget, points] });
      expect(problems).toEqual(
        expect.arrayContaining([
          { kind: "unbalanced_transaction", transactionId: `txn_bad${tag}`, sum: 5, postings: 1 },
          { kind: "balance_mismatch", accountCode: points, balance: 0, postedSum: 5 },
          { kind: "balance_mismatch", accountCode: budget, balance: 9, postedSum: 10 },
          { kind: "award_without_transaction", awardId: `awd_o${tag}`, transactionId: `txn_none${tag}` },
        ]),
      );
      expect(problems).toHaveLength(4);
      // Unscoped, the same problems show up (the sandbox holds nothing else that is broken).
      expect(await verifyLedger(p)).toHaveLength(4);
    });

    it("the storm checks fail a writer that reads balances before its transaction and writes them back", { timeout: 120_000 }, async () => {
      const storm = await runStorm(sandbox.prisma, readBeforeTransaction, { events: 200, duplicates: 40, funding: 500, advisors: 10, seed: 7 });
      const report = await checkStorm(sandbox.prisma, storm);
      expect(report.violations.length).toBeGreaterThan(0);
      expect(report.violations.join("\n")).toMatch(/balance_mismatch|awarded \d+ points from a budget/);
    });

    // Skipped on PGlite only: it runs one transaction at a time, so an unlocked read inside a
    // transaction cannot race there and this writer cannot fail (see pgliteBackend below). It runs on PostgreSQL.
    it.skipIf(backend.serialisesTransactions)(
      "the storm checks fail a writer that reads balances inside its transaction without locking them",
      { timeout: 120_000 },
      async () => {
        const storm = await runStorm(sandbox.prisma, readInTransactionWithoutLock, { events: 200, duplicates: 40, funding: 500, advisors: 10, seed: 11 });
        const report = await checkStorm(sandbox.prisma, storm);
        expect(report.violations.length).toBeGreaterThan(0);
        expect(report.violations.join("\n")).toMatch(/balance_mismatch/);
      },
    );
  });
}

// PGlite runs one transaction at a time, so a read inside a transaction cannot race there; the
// read-before-transaction writer races on both backends.
const pgliteBackend: Backend = { open: openMigratedPglite, openSandbox: openMigratedPglite, serialisesTransactions: true };
const postgresBackend: Backend = {
  serialisesTransactions: false,
  open: () => openPostgres(TEST_DATABASE_URL, { poolSize: 10 }),
  openSandbox: async () => {
    const scratch = await createScratchDatabase();
    // A pool of 10, like the shared database: the broken writers must race as the real one does.
    const database = await openPostgres(scratch.url, { poolSize: 10 });
    return {
      ...database,
      async close() {
        await database.close();
        await scratch.drop();
      },
    };
  },
};

describe("incentive ledger on embedded PGlite", () => ledgerSuite(pgliteBackend));
describeWithServices("incentive ledger on PostgreSQL", [await probePostgres()], () => ledgerSuite(postgresBackend));

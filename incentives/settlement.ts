/**
 * Closing a branch's incentive period: the points its advisors were awarded in the period move from
 * their points accounts to their payable accounts, and a Settlement row records the period with its
 * report (JSON) and a CSV for payroll.
 *
 * One database transaction per period: the ledger moves and the Settlement row commit together or
 * not at all, so a crash never leaves a period half-settled. Doubles are ruled out twice over: the
 * Settlement row is unique per (branch, period start), and each advisor's move has an idempotency
 * key (settle:<branch>:<period>:<advisor>), so a second run, concurrent or later, moves nothing and
 * answers with the settlement that exists.
 */
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Logger } from "../core/logger.ts";
import { newId } from "../core/ids.ts";
import { INCENTIVE_CONSUMER } from "./consumer.ts";
import { accountCode, accountSpecFor, createMissingAccounts, lockAccounts, type AccountSpec } from "./ledger/accounts.ts";
import { isUniqueViolation } from "../platform/databaseErrors.ts";
import { postInTransaction, Refused } from "./ledger/post.ts";
import { previousWeek } from "./periods.ts";
import { parseSettlementReport } from "./storedJson.ts";

export interface SettlePeriodInput {
  branchId: string;
  /** UTC milliseconds, inclusive: awards with start <= at < end belong to the period. */
  start: number;
  /** UTC milliseconds, exclusive. */
  end: number;
  /** The period's name, e.g. "2026-W13"; part of every move's idempotency key. */
  key: string;
  /** When the period is closed (Settlement.closedAt). */
  now: number;
}

export interface SettlementAdvisorLine {
  advisorId: string;
  /** Points moved to payable: what the advisor is paid for this period. */
  points: number;
  /** Posted awards in the period. */
  awards: number;
  /** ruleId → points awarded in the period under that rule (sums to the awarded points). */
  byRule: Record<string, number>;
  /** Set only when less was moved than awarded (the points balance was smaller, e.g. after a reversal): awarded − moved. */
  shortfall?: number;
  /** Set with shortfall: why, for whoever reads the report. */
  note?: string;
}

export interface SettlementReport {
  branchId: string;
  /** start and end as ISO 8601 UTC timestamps. */
  period: { key: string; start: string; end: string };
  /** Sorted by advisorId. */
  advisors: SettlementAdvisorLine[];
  totals: { points: number; awards: number; advisors: number };
}

export interface SettlementRecord {
  id: string;
  branchId: string;
  periodStart: Date;
  periodEnd: Date;
  closedAt: Date;
  report: SettlementReport;
  csv: string;
}

/** created: false when the period had been settled already (by an earlier or a concurrent run). */
export interface SettlePeriodResult {
  created: boolean;
  settlement: SettlementRecord;
}

/** What one run of settleDueBranches did (a type alias, so the scheduler can log it as a record). */
export type SettlementRun = {
  branches: number;
  settled: number;
  alreadySettled: number;
  /** Branches whose period still has events the incentive consumer has not evaluated. */
  waiting: number;
  failed: number;
};

export const SETTLEMENT_KIND = "settlement";
export const settlementIdempotencyKey = (branchId: string, periodKey: string, advisorId: string) => `settle:${branchId}:${periodKey}:${advisorId}`;

/**
 * One transaction holds the row locks of every account it moves. Awards to those advisors wait
 * for it, so it must stay short; the bounds allow a large branch (hundreds of advisors) on a slow
 * embedded database without letting a stuck run hold the locks indefinitely.
 */
const SETTLEMENT_TRANSACTION_OPTIONS = { maxWait: 60_000, timeout: 120_000 } as const;

/** Carries "somebody else settled this period first" out of $transaction, rolling back this run. */
class AlreadySettled extends Error {}

interface AdvisorAwards {
  advisorId: string;
  awarded: number;
  awards: number;
  /** A Map, not an object: a rule id is data and must never reach an object's prototype. */
  byRule: Map<string, number>;
}

/**
 * Settles one period of one branch (see the module comment). Throws a RangeError for a malformed
 * period or an unknown branch; a ledger refusal aborts the whole settlement and throws.
 */
export async function settlePeriod(prisma: PrismaClient, input: SettlePeriodInput): Promise<SettlePeriodResult> {
  const { branchId, start, end, key, now } = input;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start >= end) throw new RangeError(`settlePeriod: empty or malformed period [${start}, ${end})`);
  if (!key) throw new RangeError("settlePeriod: a period key is required");

  const earlier = await findSettlement(prisma, branchId, start);
  if (earlier) return { created: false, settlement: earlier };
  // Settlement has no foreign key to Branch: without this check an unknown branch would get a row.
  if (!(await prisma.branch.findUnique({ where: { id: branchId }, select: { id: true } }))) throw new RangeError(`settlePeriod: unknown branch ${branchId}`);

  try {
    const settlement = await prisma.$transaction(async (tx) => {
      const advisors = await awardsInPeriod(tx, input);

      // Every account of the period is locked up front in one statement, in account-id order like
      // every other ledger writer, so this long transaction cannot deadlock with awards or with a
      // concurrent settlement. The balances read here cannot change until it commits.
      const specs = advisors.flatMap(({ advisorId }) => [
        accountSpec(accountCode.advisorPoints(advisorId), branchId),
        accountSpec(accountCode.advisorPayable(advisorId), branchId),
      ]);
      await createMissingAccounts(tx, specs);
      const locked = await lockAccounts(
        tx,
        specs.map((s) => s.code),
      );
      const balances = new Map(locked.map((a) => [a.code, a.balance]));

      // A concurrent run that got the locks first has committed by now; its settlement stands.
      if (await findSettlement(tx, branchId, start)) throw new AlreadySettled();

      const lines: SettlementAdvisorLine[] = [];
      for (const advisor of advisors) {
        lines.push(reportLine(advisor, await moveToPayable(tx, input, advisor, balances.get(accountCode.advisorPoints(advisor.advisorId)) ?? 0)));
      }

      const report = buildReport(input, lines);
      const row = {
        id: newId("settlement", now),
        branchId,
        periodStart: new Date(start),
        periodEnd: new Date(end),
        closedAt: new Date(now),
        report: report as unknown as Prisma.InputJsonObject,
        csv: settlementCsv(report),
      };
      // ON CONFLICT DO NOTHING: an empty period takes no locks, so two runs may both get here.
      const { count } = await tx.settlement.createMany({ data: [row], skipDuplicates: true });
      if (count === 0) throw new AlreadySettled();
      return { ...row, report };
    }, SETTLEMENT_TRANSACTION_OPTIONS);
    return { created: true, settlement };
  } catch (error) {
    if (!(error instanceof AlreadySettled) && !isUniqueViolation(error)) throw error;
    // The winner committed before we could see it, so its row is visible now.
    const winner = await findSettlement(prisma, branchId, start);
    if (!winner) throw error;
    return { created: false, settlement: winner };
  }
}

/**
 * Settles, for every branch, the last week closed in the branch's timezone, unless it is settled
 * already. A branch waits while the incentive consumer has not yet evaluated every event of that
 * week: awards are dated by their event, so settling earlier would leave late awards of a closed
 * week out of it for good. One failing branch is logged and does not stop the others.
 */
export async function settleDueBranches(
  prisma: PrismaClient,
  options: { now: number; logger: Logger; shouldContinue?: () => boolean },
): Promise<SettlementRun> {
  const { now, logger } = options;
  const shouldContinue = options.shouldContinue ?? (() => true);
  const branches = await prisma.branch.findMany({ select: { id: true, timezone: true }, orderBy: { id: "asc" } });
  const cursor = await prisma.eventCursor.findUnique({ where: { consumer: INCENTIVE_CONSUMER }, select: { lastSeq: true } });
  const evaluatedUpTo = cursor?.lastSeq ?? 0n;
  const run: SettlementRun = { branches: branches.length, settled: 0, alreadySettled: 0, waiting: 0, failed: 0 };

  for (const branch of branches) {
    if (!shouldContinue()) break;
    try {
      const period = previousWeek(now, branch.timezone);
      if (
        await prisma.settlement.findUnique({
          where: { branchId_periodStart: { branchId: branch.id, periodStart: new Date(period.start) } },
          select: { id: true },
        })
      ) {
        run.alreadySettled++;
        continue;
      }
      const unevaluated = await prisma.eventLog.findFirst({
        where: { branchId: branch.id, at: { lt: new Date(period.end) }, seq: { gt: evaluatedUpTo } },
        select: { seq: true },
      });
      if (unevaluated) {
        run.waiting++;
        logger.info(
          { branchId: branch.id, period: period.key, unevaluatedSeq: unevaluated.seq.toString() },
          "incentive settlement waits for evaluation to catch up",
        );
        continue;
      }
      const started = performance.now();
      const { created, settlement } = await settlePeriod(prisma, { branchId: branch.id, ...period, now });
      if (!created) {
        run.alreadySettled++;
        continue;
      }
      run.settled++;
      const { totals } = settlement.report;
      logger.info(
        {
          branchId: branch.id,
          period: period.key,
          settlementId: settlement.id,
          advisors: totals.advisors,
          awards: totals.awards,
          points: totals.points,
          durationMs: Math.round(performance.now() - started),
        },
        `settled incentive period ${period.key} of branch ${branch.id} (${run.settled + run.alreadySettled + run.waiting + run.failed}/${branches.length})`,
      );
    } catch (error) {
      run.failed++;
      logger.error({ err: error, branchId: branch.id, timezone: branch.timezone }, "incentive settlement of a branch failed");
    }
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// Steps

async function findSettlement(prisma: Pick<Prisma.TransactionClient, "settlement">, branchId: string, start: number): Promise<SettlementRecord | null> {
  const row = await prisma.settlement.findUnique({ where: { branchId_periodStart: { branchId, periodStart: new Date(start) } } });
  return row ? { ...row, report: parseSettlementReport(row.report) } : null;
}

/** Posted awards of the branch in [start, end), per advisor (sorted by advisorId) and rule. */
async function awardsInPeriod(tx: Prisma.TransactionClient, input: SettlePeriodInput): Promise<AdvisorAwards[]> {
  const groups = await tx.incentiveAward.groupBy({
    by: ["advisorId", "ruleId"],
    where: { branchId: input.branchId, status: "posted", at: { gte: new Date(input.start), lt: new Date(input.end) } },
    _sum: { points: true },
    _count: { _all: true },
  });
  const byAdvisor = new Map<string, AdvisorAwards>();
  for (const group of groups) {
    const advisor = byAdvisor.get(group.advisorId) ?? { advisorId: group.advisorId, awarded: 0, awards: 0, byRule: new Map<string, number>() };
    const points = group._sum.points ?? 0;
    advisor.awarded += points;
    advisor.awards += group._count._all;
    advisor.byRule.set(group.ruleId, points);
    byAdvisor.set(group.advisorId, advisor);
  }
  return [...byAdvisor.values()].sort((a, b) => compare(a.advisorId, b.advisorId));
}

function accountSpec(code: string, branchId: string): AccountSpec {
  const spec = accountSpecFor(code, branchId);
  // A posted award proves its advisor id makes a valid code; this would be a corrupt award row.
  if (!spec) throw new Error(`settlement: ${code} is not a ledger account code`);
  return spec;
}

/**
 * Moves the advisor's awarded points, or as many as the (locked) points balance holds, to payable.
 * A move already on the ledger under the same key stands and is reported as made: it is never
 * redone or topped up. Returns the points moved and whether that earlier move is what counted.
 */
async function moveToPayable(
  tx: Prisma.TransactionClient,
  input: SettlePeriodInput,
  advisor: AdvisorAwards,
  balance: number,
): Promise<{ moved: number; earlier: boolean }> {
  const idempotencyKey = settlementIdempotencyKey(input.branchId, input.key, advisor.advisorId);
  const payable = accountCode.advisorPayable(advisor.advisorId);
  const done = await tx.ledgerTransaction.findUnique({
    where: { idempotencyKey },
    select: { postings: { select: { amount: true, account: { select: { code: true } } } } },
  });
  if (done) return { moved: done.postings.filter((p) => p.account.code === payable).reduce((sum, p) => sum + p.amount, 0), earlier: true };

  const amount = Math.min(advisor.awarded, Math.max(0, balance));
  if (amount === 0) return { moved: 0, earlier: false }; // a ledger transaction cannot move nothing; the report says why
  const posted = await postInTransaction(tx, {
    idempotencyKey,
    kind: SETTLEMENT_KIND,
    branchId: input.branchId,
    memo: `settlement of ${input.key}`,
    metadata: {
      periodKey: input.key,
      periodStart: new Date(input.start).toISOString(),
      periodEnd: new Date(input.end).toISOString(),
      advisorId: advisor.advisorId,
      awarded: advisor.awarded,
    },
    postings: [
      { accountCode: accountCode.advisorPoints(advisor.advisorId), amount: -amount },
      { accountCode: payable, amount },
    ],
  });
  if (!posted.ok) throw new Refused(posted);
  return { moved: amount, earlier: false };
}

function reportLine(advisor: AdvisorAwards, { moved, earlier }: { moved: number; earlier: boolean }): SettlementAdvisorLine {
  const line: SettlementAdvisorLine = {
    advisorId: advisor.advisorId,
    points: moved,
    awards: advisor.awards,
    byRule: Object.fromEntries([...advisor.byRule].sort(([a], [b]) => compare(a, b))),
  };
  if (moved < advisor.awarded) {
    line.shortfall = advisor.awarded - moved;
    line.note = earlier
      ? `a move already on the ledger for this period moved ${moved} of ${advisor.awarded} awarded points`
      : `the points balance covered ${moved} of ${advisor.awarded} awarded points`;
  }
  return line;
}

function buildReport(input: SettlePeriodInput, advisors: SettlementAdvisorLine[]): SettlementReport {
  return {
    branchId: input.branchId,
    period: { key: input.key, start: new Date(input.start).toISOString(), end: new Date(input.end).toISOString() },
    advisors,
    totals: {
      points: advisors.reduce((sum, a) => sum + a.points, 0),
      awards: advisors.reduce((sum, a) => sum + a.awards, 0),
      advisors: advisors.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

/** One RFC 4180 field: quoted (with quotes doubled) only when it holds a comma, a quote or a line break. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The payroll CSV of a report: header advisor_id,points,awards, one CRLF-terminated line per advisor by advisorId. */
export function settlementCsv(report: Pick<SettlementReport, "advisors">): string {
  const rows = [...report.advisors].sort((a, b) => compare(a.advisorId, b.advisorId)).map((a) => [a.advisorId, a.points, a.awards]);
  return [["advisor_id", "points", "awards"], ...rows].map((fields) => `${fields.map(csvField).join(",")}\r\n`).join("");
}

// Code-unit order, not localeCompare: the order must not depend on the server's locale.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Incentive awards on the ledger: one decision per (event, rule), recorded in the same database
 * transaction as its ledger write, so a crash can never leave points without a decision or a
 * decision without its points. Budgets are funded per branch and period from platform issuance.
 */
import type { IncentiveAward, PrismaClient } from "../../generated/prisma/client.ts";
import { newId } from "../../core/ids.ts";
import type { AwardDecision } from "../evaluate.ts";
import { accountCode } from "./accounts.ts";
import { isForeignKeyViolation, isUniqueViolation } from "../../platform/databaseErrors.ts";
import { LEDGER_TRANSACTION_OPTIONS, postInTransaction, postTransaction, Refused, type PostRefusal, type PostResult } from "./post.ts";

export interface AwardInput {
  /** The domain event that earned the award; with ruleId, the idempotency root of the decision. */
  eventId: string;
  ruleId: string;
  ruleSetVersion: number;
  branchId: string;
  advisorId: string;
  points: number;
  at: Date;
  /**
   * The request the event belongs to (EventLog.requestId), kept on the decision so reporting sums a
   * request's points without the event log (reporting/kpiQuery.ts). Null or absent: no request.
   */
  requestId?: string | null;
}

export type AwardStatus = AwardDecision["status"];

/**
 * An AwardDecision (the one type of what the rules decided, incentives/evaluate.ts) as the ledger
 * recorded it: with its row id, branch, time and ledger transaction.
 */
export interface RecordedAward extends Omit<AwardDecision, "reason">, AwardInput {
  id: string;
  /** Why a decision was skipped ("budget_exhausted", or the caller's reason such as a cap); null when posted. */
  reason: string | null;
  transactionId: string | null;
}

export type AwardRefusal =
  | { ok: false; reason: "INVALID_POINTS"; points: number }
  | { ok: false; reason: "MISSING_REASON" }
  | Exclude<PostRefusal, { reason: "INSUFFICIENT_BUDGET" }>;

/** A decision, new or (duplicate: true) the one an earlier delivery of the same event and rule made. */
export type AwardResult = { ok: true; duplicate: boolean; decision: RecordedAward } | AwardRefusal;

export const BUDGET_EXHAUSTED = "budget_exhausted";

export const awardIdempotencyKey = (eventId: string, ruleId: string) => `award:${eventId}:${ruleId}`;
export const fundingIdempotencyKey = (branchId: string, periodKey: string) => `fund:${branchId}:${periodKey}`;

function toDecision(row: IncentiveAward): RecordedAward {
  return {
    id: row.id,
    eventId: row.eventId,
    ruleId: row.ruleId,
    ruleSetVersion: row.ruleSetVersion,
    branchId: row.branchId,
    advisorId: row.advisorId,
    points: row.points,
    status: row.status as AwardStatus,
    reason: row.reason,
    transactionId: row.transactionId,
    requestId: row.requestId,
    at: row.at,
  };
}

function awardRow(input: AwardInput, status: AwardStatus, reason: string | null, transactionId: string | null) {
  return {
    id: newId("award"),
    eventId: input.eventId,
    ruleId: input.ruleId,
    ruleSetVersion: input.ruleSetVersion,
    branchId: input.branchId,
    advisorId: input.advisorId,
    points: input.points,
    status,
    reason,
    transactionId,
    requestId: input.requestId ?? null,
    at: input.at,
  };
}

async function existingDecision(prisma: Pick<PrismaClient, "incentiveAward">, input: { eventId: string; ruleId: string }): Promise<RecordedAward | null> {
  const row = await prisma.incentiveAward.findUnique({ where: { eventId_ruleId: { eventId: input.eventId, ruleId: input.ruleId } } });
  return row ? toDecision(row) : null;
}

/**
 * Awards points from the branch budget to the advisor, or records the award as skipped when the
 * budget cannot cover it. Any number of deliveries of one (event, rule), concurrent or not, make
 * one decision and at most one ledger transaction; later deliveries answer with that decision.
 */
export async function postAward(prisma: PrismaClient, input: AwardInput): Promise<AwardResult> {
  if (!Number.isInteger(input.points) || input.points <= 0) return { ok: false, reason: "INVALID_POINTS", points: input.points };
  try {
    return await prisma.$transaction(async (tx): Promise<AwardResult> => {
      // A cheap answer for a late redelivery; a concurrent one is settled below, under the locks.
      const earlier = await existingDecision(tx, input);
      if (earlier) return { ok: true, duplicate: true, decision: earlier };

      const posted = await postInTransaction(tx, {
        idempotencyKey: awardIdempotencyKey(input.eventId, input.ruleId),
        kind: "award",
        branchId: input.branchId,
        memo: `${input.ruleId} for ${input.eventId}`,
        metadata: { eventId: input.eventId, ruleId: input.ruleId, ruleSetVersion: input.ruleSetVersion, advisorId: input.advisorId },
        postings: [
          { accountCode: accountCode.branchBudget(input.branchId), amount: -input.points },
          { accountCode: accountCode.advisorPoints(input.advisorId), amount: input.points },
        ],
      });
      if (posted.ok && posted.duplicate) {
        // The ledger transaction committed together with its decision, which is visible now.
        const decided = await existingDecision(tx, input);
        if (!decided) throw new Error(`ledger transaction ${awardIdempotencyKey(input.eventId, input.ruleId)} exists without its award decision`);
        return { ok: true, duplicate: true, decision: decided };
      }
      if (!posted.ok && posted.reason !== "INSUFFICIENT_BUDGET") throw new Refused(posted);

      const row = posted.ok ? awardRow(input, "posted", null, posted.transactionId) : awardRow(input, "skipped", BUDGET_EXHAUSTED, null);
      // Throws P2002 if a concurrent delivery decided first; that rolls back this ledger write too.
      const created = await tx.incentiveAward.create({ data: row });
      return { ok: true, duplicate: false, decision: toDecision(created) };
    }, LEDGER_TRANSACTION_OPTIONS);
  } catch (error) {
    if (error instanceof Refused) return error.result as AwardRefusal;
    if (isUniqueViolation(error)) {
      const decided = await existingDecision(prisma, input);
      if (decided) return { ok: true, duplicate: true, decision: decided };
    }
    // The only foreign key the write can miss is the branch of a new account.
    if (isForeignKeyViolation(error)) return { ok: false, reason: "UNKNOWN_BRANCH" };
    throw error;
  }
}

/**
 * Records a decision made before the ledger (a cap reached, a rule not applicable). Idempotent on
 * (event, rule): if any decision exists, posted or skipped, that one stands and is returned.
 */
export async function recordSkippedAward(prisma: PrismaClient, input: AwardInput & { reason: string }): Promise<AwardResult> {
  if (!Number.isInteger(input.points) || input.points < 0) return { ok: false, reason: "INVALID_POINTS", points: input.points };
  if (!input.reason) return { ok: false, reason: "MISSING_REASON" };
  // ON CONFLICT DO NOTHING decides the race in one statement; the read after it sees the winner.
  const { count } = await prisma.incentiveAward.createMany({ data: [awardRow(input, "skipped", input.reason, null)], skipDuplicates: true });
  const decided = await existingDecision(prisma, input);
  if (!decided) throw new Error(`award decision for ${input.eventId}/${input.ruleId} vanished after insert`);
  return { ok: true, duplicate: count === 0, decision: decided };
}

/** Moves points from platform issuance into a branch's budget, once per branch and period key. */
export async function fundBudget(prisma: PrismaClient, input: { branchId: string; points: number; periodKey: string }): Promise<PostResult> {
  if (!Number.isInteger(input.points) || input.points <= 0) {
    return { ok: false, reason: "INVALID_AMOUNT", accountCode: accountCode.branchBudget(input.branchId), amount: input.points };
  }
  return postTransaction(prisma, {
    idempotencyKey: fundingIdempotencyKey(input.branchId, input.periodKey),
    kind: "budget_funding",
    branchId: input.branchId,
    memo: `budget for ${input.periodKey}`,
    metadata: { periodKey: input.periodKey },
    postings: [
      { accountCode: accountCode.platformIssuance(), amount: -input.points },
      { accountCode: accountCode.branchBudget(input.branchId), amount: input.points },
    ],
  });
}

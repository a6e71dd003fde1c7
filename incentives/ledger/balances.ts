/**
 * Reading the ledger: balances, and an audit of the invariants the writers promise. verifyLedger
 * recomputes everything from the postings instead of trusting the stored balances, so it catches a
 * writer that lost an update as well as one that broke double entry.
 */
import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { accountSpecFor } from "./accounts.ts";

/** The account's balance; 0 for an account that does not exist yet (it has had no postings). */
export async function balanceOf(prisma: Pick<PrismaClient, "ledgerAccount">, code: string): Promise<number> {
  const account = await prisma.ledgerAccount.findUnique({ where: { code }, select: { balance: true } });
  return account?.balance ?? 0;
}

export type LedgerProblem =
  /** Postings that do not sum to zero, or fewer than two of them. */
  | { kind: "unbalanced_transaction"; transactionId: string; sum: number; postings: number }
  /** A stored balance that differs from the sum of the account's postings (a lost or stray update). */
  | { kind: "balance_mismatch"; accountCode: string; balance: number; postedSum: number }
  | { kind: "negative_budget"; accountCode: string; balance: number }
  /** More than one decision for one (event, rule). The unique index forbids it; this checks it holds. */
  | { kind: "duplicate_award"; eventId: string; ruleId: string; count: number }
  /** A decision that says "posted" but whose ledger transaction does not exist. */
  | { kind: "award_without_transaction"; awardId: string; transactionId: string | null };

export interface VerifyOptions {
  /** Limit the audit to these accounts, their transactions, and the awards of their owners. Default: everything. */
  accountCodes?: string[];
}

// SUM over INTEGER is BIGINT; a ledger total fits a double exactly long before it could overflow.
const num = (value: bigint | number) => Number(value);

/**
 * Every problem found, empty when the ledger is sound. Each check is one statement, so it sees one
 * consistent snapshot even while writers are running. Takes a client or a transaction client.
 */
export async function verifyLedger(prisma: Pick<PrismaClient, "$queryRaw">, options: VerifyOptions = {}): Promise<LedgerProblem[]> {
  const codes = options.accountCodes;
  if (codes && !codes.length) return [];
  const accountScope = codes ? Prisma.sql`AND a."code" IN (${Prisma.join(codes)})` : Prisma.empty;
  const transactionScope = codes
    ? Prisma.sql`WHERE t."id" IN (SELECT sp."transactionId" FROM "LedgerPosting" sp JOIN "LedgerAccount" sa ON sa."id" = sp."accountId" WHERE sa."code" IN (${Prisma.join(codes)}))`
    : Prisma.empty;

  const unbalanced = await prisma.$queryRaw<Array<{ id: string; sum: bigint; postings: bigint }>>`
    SELECT t."id", COALESCE(SUM(p."amount"), 0)::bigint AS "sum", COUNT(p."id")::bigint AS "postings"
    FROM "LedgerTransaction" t LEFT JOIN "LedgerPosting" p ON p."transactionId" = t."id"
    ${transactionScope}
    GROUP BY t."id"
    HAVING COALESCE(SUM(p."amount"), 0) <> 0 OR COUNT(p."id") < 2`;

  const mismatched = await prisma.$queryRaw<Array<{ code: string; balance: number; posted: bigint }>>`
    SELECT a."code", a."balance", COALESCE(SUM(p."amount"), 0)::bigint AS "posted"
    FROM "LedgerAccount" a LEFT JOIN "LedgerPosting" p ON p."accountId" = a."id"
    WHERE TRUE ${accountScope}
    GROUP BY a."id"
    HAVING a."balance" <> COALESCE(SUM(p."amount"), 0)`;

  const negative = await prisma.$queryRaw<Array<{ code: string; balance: number }>>`
    SELECT a."code", a."balance" FROM "LedgerAccount" a
    WHERE a."kind" = 'branch_budget' AND a."balance" < 0 ${accountScope}`;

  const problems: LedgerProblem[] = [
    ...unbalanced.map((r): LedgerProblem => ({ kind: "unbalanced_transaction", transactionId: r.id, sum: num(r.sum), postings: num(r.postings) })),
    ...mismatched.map((r): LedgerProblem => ({ kind: "balance_mismatch", accountCode: r.code, balance: r.balance, postedSum: num(r.posted) })),
    ...negative.map((r): LedgerProblem => ({ kind: "negative_budget", accountCode: r.code, balance: r.balance })),
  ];

  const awardScope = awardScopeFor(codes);
  if (awardScope === null) return problems;
  const duplicates = await prisma.$queryRaw<Array<{ eventId: string; ruleId: string; count: bigint }>>`
    SELECT w."eventId", w."ruleId", COUNT(*)::bigint AS "count" FROM "IncentiveAward" w
    WHERE TRUE ${awardScope}
    GROUP BY w."eventId", w."ruleId" HAVING COUNT(*) > 1`;
  const orphaned = await prisma.$queryRaw<Array<{ id: string; transactionId: string | null }>>`
    SELECT w."id", w."transactionId" FROM "IncentiveAward" w LEFT JOIN "LedgerTransaction" t ON t."id" = w."transactionId"
    WHERE w."status" = 'posted' AND t."id" IS NULL ${awardScope}`;
  return [
    ...problems,
    ...duplicates.map((r): LedgerProblem => ({ kind: "duplicate_award", eventId: r.eventId, ruleId: r.ruleId, count: num(r.count) })),
    ...orphaned.map((r): LedgerProblem => ({ kind: "award_without_transaction", awardId: r.id, transactionId: r.transactionId })),
  ];
}

/**
 * Awards belong to a branch and an advisor, not to an account, so a scoped audit covers the awards
 * of the scoped budgets' branches and the scoped advisors. null: nothing in scope owns awards.
 */
function awardScopeFor(codes: string[] | undefined): Prisma.Sql | null {
  if (!codes) return Prisma.empty;
  const branchIds: string[] = [];
  const advisorIds: string[] = [];
  for (const code of codes) {
    const spec = accountSpecFor(code);
    if (spec?.kind === "branch_budget") branchIds.push(spec.ownerId);
    else if (spec?.kind === "advisor_points" || spec?.kind === "advisor_payable") advisorIds.push(spec.ownerId);
  }
  const clauses = [
    ...(branchIds.length ? [Prisma.sql`w."branchId" IN (${Prisma.join(branchIds)})`] : []),
    ...(advisorIds.length ? [Prisma.sql`w."advisorId" IN (${Prisma.join(advisorIds)})`] : []),
  ];
  if (!clauses.length) return null;
  return Prisma.sql`AND (${Prisma.join(clauses, " OR ")})`;
}

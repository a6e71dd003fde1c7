/**
 * Posting balanced, idempotent, append-only ledger transactions.
 *
 * Every balance change follows one recipe inside one database transaction: create missing accounts,
 * lock the involved account rows in account-id order, check the idempotency key (a duplicate returns
 * the first transaction and changes nothing; the same key with another input is IDEMPOTENCY_CONFLICT,
 * told apart by the input hash stored with the key, inputHash.ts), check budgets against the locked balances, then insert
 * the transaction and its postings and move the balances with `balance = balance + amount`. Nothing is
 * decided from a balance read outside that transaction: a balance read in Node and written back would
 * lose concurrent updates.
 *
 * postInTransaction is the core and takes a transaction client, so callers (awards.ts) can record
 * their own decision in the same database transaction as the ledger write.
 */
import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { isForeignKeyViolation, isUniqueViolation } from "../../platform/databaseErrors.ts";
import { newId } from "../../core/ids.ts";
import { ledgerInputHash } from "./inputHash.ts";
import { accountSpecFor, createMissingAccounts, lockAccounts, type AccountSpec } from "./accounts.ts";

export interface PostingInput {
  accountCode: string;
  /** Integer points; positive adds to the account's balance, negative takes from it. */
  amount: number;
}

export interface PostTransactionInput {
  /**
   * One ledger transaction per key, ever: a retry or a duplicate delivery with the same key and the
   * same input is a no-op; with another input it is refused (IDEMPOTENCY_CONFLICT).
   */
  idempotencyKey: string;
  kind: string;
  branchId?: string | null;
  memo?: string | null;
  metadata?: Prisma.InputJsonValue;
  postings: PostingInput[];
}

export type PostRefusal =
  | { ok: false; reason: "MISSING_IDEMPOTENCY_KEY" }
  /** The key was used before for a transaction that does something else: `transactionId` is that one. */
  | { ok: false; reason: "IDEMPOTENCY_CONFLICT"; transactionId: string }
  | { ok: false; reason: "TOO_FEW_POSTINGS"; count: number }
  | { ok: false; reason: "INVALID_AMOUNT"; accountCode: string; amount: number }
  | { ok: false; reason: "UNBALANCED"; sum: number }
  | { ok: false; reason: "UNKNOWN_ACCOUNT"; accountCode: string }
  | { ok: false; reason: "UNKNOWN_BRANCH" }
  | { ok: false; reason: "INSUFFICIENT_BUDGET"; accountCode: string; available: number; requested: number };

export type PostResult = { ok: true; duplicate: boolean; transactionId: string } | PostRefusal;

export type ReverseResult = PostResult | { ok: false; reason: "NOT_FOUND" } | { ok: false; reason: "IS_A_REVERSAL" };

/**
 * Interactive transaction options for ledger writes. Writers to one branch budget queue on its row
 * lock, and embedded PGlite runs one transaction at a time, so a burst of awards waits longer for its
 * turn than Prisma's defaults (2 s to start, 5 s to finish) allow. The wait is the burst draining,
 * not a fault, so the bounds are generous.
 */
export const LEDGER_TRANSACTION_OPTIONS = { maxWait: 60_000, timeout: 30_000 } as const;

// PostgreSQL INTEGER: an amount outside it would fail in the database as an infrastructure error.
const MAX_AMOUNT = 2 ** 31 - 1;

/** The refusal for postings that cannot form a ledger transaction, or null when they can. */
export function validatePostings(postings: PostingInput[]): PostRefusal | null {
  if (postings.length < 2) return { ok: false, reason: "TOO_FEW_POSTINGS", count: postings.length };
  let sum = 0;
  for (const { accountCode, amount } of postings) {
    if (!Number.isInteger(amount) || amount === 0 || Math.abs(amount) > MAX_AMOUNT) return { ok: false, reason: "INVALID_AMOUNT", accountCode, amount };
    sum += amount; // exact: integers well inside Number's safe range
  }
  if (sum !== 0) return { ok: false, reason: "UNBALANCED", sum };
  return null;
}

/** A key seen before: the same input is a duplicate (a row from before input hashes counts as the same). */
function duplicateOrConflict(existing: { id: string; inputHash: string | null }, inputHash: string): PostResult {
  if (existing.inputHash !== null && existing.inputHash !== inputHash) return { ok: false, reason: "IDEMPOTENCY_CONFLICT", transactionId: existing.id };
  return { ok: true, duplicate: true, transactionId: existing.id };
}

/** Net change per account code (an account may appear in several postings of one transaction). */
function netByAccount(postings: PostingInput[]): Map<string, number> {
  const net = new Map<string, number>();
  for (const p of postings) net.set(p.accountCode, (net.get(p.accountCode) ?? 0) + p.amount);
  return net;
}

/**
 * The core: posts inside the caller's transaction. A refusal returns before anything is written
 * except, possibly, empty accounts (an account without postings is not a ledger effect).
 * `reversesId` marks a reversal; a transaction already reversed answers with its reversal.
 */
export async function postInTransaction(tx: Prisma.TransactionClient, input: PostTransactionInput & { reversesId?: string }): Promise<PostResult> {
  if (!input.idempotencyKey) return { ok: false, reason: "MISSING_IDEMPOTENCY_KEY" };
  const invalid = validatePostings(input.postings);
  if (invalid) return invalid;
  const specs: AccountSpec[] = [];
  for (const { accountCode } of input.postings) {
    const spec = accountSpecFor(accountCode, input.branchId ?? null);
    if (!spec) return { ok: false, reason: "UNKNOWN_ACCOUNT", accountCode };
    specs.push(spec);
  }

  await createMissingAccounts(tx, specs);
  const locked = await lockAccounts(
    tx,
    specs.map((spec) => spec.code),
  );

  // Checked under the locks: a concurrent writer of the same key held them until it committed, so
  // its transaction is visible now (READ COMMITTED reads the latest commit at each statement).
  const inputHash = ledgerInputHash(input);
  const existing = await tx.ledgerTransaction.findUnique({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true, inputHash: true } });
  if (existing) return duplicateOrConflict(existing, inputHash);
  if (input.reversesId) {
    const reversal = await tx.ledgerTransaction.findUnique({ where: { reversesId: input.reversesId }, select: { id: true } });
    if (reversal) return { ok: true, duplicate: true, transactionId: reversal.id };
  }

  const net = netByAccount(input.postings);
  const byCode = new Map(locked.map((a) => [a.code, a]));
  for (const account of locked) {
    const change = net.get(account.code) ?? 0;
    if (account.kind === "branch_budget" && change < 0 && account.balance + change < 0) {
      return { ok: false, reason: "INSUFFICIENT_BUDGET", accountCode: account.code, available: account.balance, requested: -change };
    }
  }

  const transactionId = newId("transaction");
  await writeTransaction(tx, {
    id: transactionId,
    inputHash,
    input,
    postings: input.postings.map((p) => ({ accountId: byCode.get(p.accountCode)!.id, amount: p.amount })),
    changes: locked.map((a) => ({ accountId: a.id, change: net.get(a.code) ?? 0 })).filter((c) => c.change !== 0),
  });
  return { ok: true, duplicate: false, transactionId };
}

/**
 * Inserts the transaction and its postings and moves the balances, in ONE statement. It runs while
 * the accounts are locked, and every writer to the same branch budget waits behind that lock, so
 * each round trip saved here is saved once per queued award. Balances move relative to their stored
 * value (`balance + change`), never to a value computed in Node; the CHECK on budgets stays the last
 * line of defence. (Foreign keys are checked at the end of the statement, so the postings may refer
 * to the transaction inserted beside them.)
 */
async function writeTransaction(
  tx: Prisma.TransactionClient,
  row: {
    id: string;
    inputHash: string;
    input: PostTransactionInput & { reversesId?: string };
    postings: Array<{ accountId: string; amount: number }>;
    changes: Array<{ accountId: string; change: number }>;
  },
): Promise<void> {
  const { id, input } = row;
  const metadata = input.metadata === undefined ? null : JSON.stringify(input.metadata);
  const postings = Prisma.join(row.postings.map((p) => Prisma.sql`(${id}, ${p.accountId}, ${p.amount}::integer)`));
  // Postings that cancel out on one account leave its balance alone (and may leave none to move).
  const move = row.changes.length
    ? Prisma.sql`UPDATE "LedgerAccount" AS a SET "balance" = a."balance" + c."change"
        FROM (VALUES ${Prisma.join(row.changes.map((c) => Prisma.sql`(${c.accountId}, ${c.change}::integer)`))}) AS c("id", "change")
        WHERE a."id" = c."id"`
    : Prisma.sql`SELECT 1`;
  await tx.$executeRaw`
    WITH "transaction" AS (
      INSERT INTO "LedgerTransaction" ("id", "idempotencyKey", "inputHash", "kind", "branchId", "memo", "metadata", "reversesId")
      VALUES (${id}, ${input.idempotencyKey}, ${row.inputHash}, ${input.kind}, ${input.branchId ?? null}, ${input.memo ?? null}, ${metadata}::jsonb, ${input.reversesId ?? null})
    ), "postings" AS (
      INSERT INTO "LedgerPosting" ("transactionId", "accountId", "amount") VALUES ${postings}
    )
    ${move}`;
}

/** Carries a refusal out of $transaction so the transaction rolls back (no empty accounts left behind). */
export class Refused<R extends { ok: false; reason: string } = PostRefusal> extends Error {
  constructor(readonly result: R) {
    super(result.reason);
  }
}

/**
 * Runs the core in its own transaction and maps the races the database decides: a concurrent insert
 * of the same key (or of a second reversal) loses on the unique index and answers as a duplicate.
 */
async function runPost(prisma: PrismaClient, input: PostTransactionInput & { reversesId?: string }): Promise<PostResult> {
  try {
    return await prisma.$transaction(async (tx) => {
      const result = await postInTransaction(tx, input);
      if (!result.ok) throw new Refused(result);
      return result;
    }, LEDGER_TRANSACTION_OPTIONS);
  } catch (error) {
    if (error instanceof Refused) return error.result;
    if (isUniqueViolation(error)) {
      // The winner has committed (PostgreSQL raises the violation only then), so its row is visible.
      const byKey = await prisma.ledgerTransaction.findUnique({ where: { idempotencyKey: input.idempotencyKey }, select: { id: true, inputHash: true } });
      if (byKey) return duplicateOrConflict(byKey, ledgerInputHash(input));
      const reversal = input.reversesId ? await prisma.ledgerTransaction.findUnique({ where: { reversesId: input.reversesId }, select: { id: true } }) : null;
      if (reversal) return { ok: true, duplicate: true, transactionId: reversal.id };
    }
    // The only foreign key an account insert can miss is its branch.
    if (isForeignKeyViolation(error)) return { ok: false, reason: "UNKNOWN_BRANCH" };
    throw error;
  }
}

export async function postTransaction(prisma: PrismaClient, input: PostTransactionInput): Promise<PostResult> {
  // Reversals go through reverseTransaction, which reads the original's postings itself.
  return runPost(prisma, { ...input, reversesId: undefined });
}

/**
 * Corrects a transaction by posting its negation (the ledger is append-only). A transaction is
 * reversed at most once: asking again, with any key, answers with the existing reversal. The budget
 * rule applies, so a funding already spent cannot be reversed.
 */
export async function reverseTransaction(
  prisma: PrismaClient,
  input: { transactionId: string; idempotencyKey: string; memo?: string | null },
): Promise<ReverseResult> {
  // Read outside the locks on purpose: a posted transaction and its postings never change.
  const original = await prisma.ledgerTransaction.findUnique({
    where: { id: input.transactionId },
    select: {
      id: true,
      kind: true,
      branchId: true,
      reversesId: true,
      postings: { select: { amount: true, account: { select: { code: true } } }, orderBy: { id: "asc" } },
    },
  });
  if (!original) return { ok: false, reason: "NOT_FOUND" };
  // Undoing a reversal would re-apply the original under a new meaning; post a fresh transaction instead.
  if (original.reversesId) return { ok: false, reason: "IS_A_REVERSAL" };
  return runPost(prisma, {
    idempotencyKey: input.idempotencyKey,
    kind: "reversal",
    branchId: original.branchId,
    memo: input.memo ?? null,
    metadata: { reverses: original.id, reversesKind: original.kind },
    postings: original.postings.map((p) => ({ accountCode: p.account.code, amount: -p.amount })),
    reversesId: original.id,
  });
}

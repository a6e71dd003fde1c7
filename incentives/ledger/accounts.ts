/**
 * Ledger accounts: their codes, kinds and creation, and the row locks every balance change takes.
 *
 * An account is named by a stable code ("branch_budget:brn_x"), so callers post to codes and never
 * look up ids first; the row is created on first use. Balances change only under the row lock taken
 * by lockAccounts, inside the transaction that writes the postings (see post.ts).
 */
import { Prisma } from "../../generated/prisma/client.ts";
import type { LedgerAccountKind } from "../../generated/prisma/client.ts";
import { newId } from "../../core/ids.ts";

export type AccountKind = LedgerAccountKind;

export interface AccountSpec {
  code: string;
  kind: AccountKind;
  ownerId: string;
  /** The branch the account belongs to (a budget) or was opened in (an advisor's accounts); null for the platform. */
  branchId: string | null;
}

export interface LockedAccount {
  id: string;
  code: string;
  kind: AccountKind;
  balance: number;
}

/** The single issuance account: the source every budget is funded from. Its balance is negative by design. */
export const PLATFORM_ISSUANCE_CODE = "platform_issuance";
const PLATFORM_OWNER = "platform";

export const accountCode = {
  branchBudget: (branchId: string) => `branch_budget:${branchId}`,
  advisorPoints: (advisorId: string) => `advisor_points:${advisorId}`,
  advisorPayable: (advisorId: string) => `advisor_payable:${advisorId}`,
  platformIssuance: () => PLATFORM_ISSUANCE_CODE,
} as const;

// Owner ids are our prefixed ids; refusing separators keeps a code parseable back into kind and owner.
const OWNER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const OWNED_KINDS = new Set<AccountKind>(["branch_budget", "advisor_points", "advisor_payable"]);

/**
 * The spec a code names, or null when it is not a ledger code. `branchId` is recorded on advisor
 * accounts only when they are first created (the branch the first posting was made for).
 */
export function accountSpecFor(code: string, branchId: string | null = null): AccountSpec | null {
  if (code === PLATFORM_ISSUANCE_CODE) return { code, kind: "platform_issuance", ownerId: PLATFORM_OWNER, branchId: null };
  const separator = code.indexOf(":");
  if (separator === -1) return null;
  const kind = code.slice(0, separator) as AccountKind;
  const ownerId = code.slice(separator + 1);
  if (!OWNED_KINDS.has(kind) || !OWNER_ID.test(ownerId)) return null;
  return { code, kind, ownerId, branchId: kind === "branch_budget" ? ownerId : branchId };
}

type AccountClient = Pick<Prisma.TransactionClient, "ledgerAccount">;

/**
 * Creates the accounts that do not exist yet. Rows are inserted in code order so two transactions
 * creating the same new accounts wait on each other in the same order instead of deadlocking.
 */
export async function createMissingAccounts(tx: AccountClient, specs: AccountSpec[]): Promise<void> {
  const unique = [...new Map(specs.map((s) => [s.code, s])).values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  if (!unique.length) return;
  // ON CONFLICT DO NOTHING: a concurrent creator wins and we use its row; no read-then-insert race.
  await tx.ledgerAccount.createMany({
    data: unique.map((s) => ({ id: newId("account"), code: s.code, kind: s.kind, ownerId: s.ownerId, branchId: s.branchId })),
    skipDuplicates: true,
  });
}

/** Creates missing accounts idempotently and returns every spec's account id by code. */
export async function ensureAccounts(tx: AccountClient, specs: AccountSpec[]): Promise<Map<string, string>> {
  await createMissingAccounts(tx, specs);
  const rows = await tx.ledgerAccount.findMany({ where: { code: { in: specs.map((s) => s.code) } }, select: { id: true, code: true } });
  return new Map(rows.map((r) => [r.code, r.id]));
}

/**
 * Locks the accounts' rows until the end of the transaction and returns their current balances.
 * Rows are locked in account-id order (PostgreSQL locks in ORDER BY order under FOR UPDATE): every
 * writer takes its locks in the same global order, so two postings sharing accounts queue rather
 * than deadlock. Balances read here are final for this transaction: nobody else can change them.
 */
export async function lockAccounts(tx: Pick<Prisma.TransactionClient, "$queryRaw">, codes: string[]): Promise<LockedAccount[]> {
  if (!codes.length) return [];
  return tx.$queryRaw<LockedAccount[]>`
    SELECT "id", "code", "kind"::text AS "kind", "balance"
    FROM "LedgerAccount"
    WHERE "code" IN (${Prisma.join([...new Set(codes)])})
    ORDER BY "id"
    FOR UPDATE`;
}

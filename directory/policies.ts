/**
 * Branch dispatch policies with optimistic concurrency. Every write is one conditional statement on
 * the version, so two managers editing at once can never silently overwrite each other: the loser
 * gets VERSION_MISMATCH and re-reads. The engine's policy cache picks a change up within seconds.
 */
import { isUniqueViolation } from "../platform/databaseErrors.ts";
import { recordAction } from "../compliance/audit/actions.ts";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { DEFAULT_DISPATCH_POLICY, DispatchPolicySchema, type DispatchPolicy } from "../matching/domain/policy.ts";
import { branchExists } from "./branches.ts";

export interface BranchPolicy {
  branchId: string;
  /** 0 means the branch has never stored a policy and runs on the default. */
  version: number;
  updatedAt: Date | null;
  updatedBy: string | null;
  policy: DispatchPolicy;
}

export type PutPolicyResult =
  | { ok: true; policy: BranchPolicy }
  | { ok: false; reason: "UNKNOWN_BRANCH" }
  | { ok: false; reason: "VERSION_MISMATCH"; currentVersion: number };

/** How often an unconditional write retries when another writer created the row under it. */
const CREATE_RACE_RETRIES = 3;

/** The branch's policy (or the default at version 0); null for an unknown branch. */
export async function getBranchPolicy(prisma: PrismaClient, branchId: string): Promise<BranchPolicy | null> {
  const row = await prisma.dispatchPolicy.findUnique({ where: { branchId } });
  if (!row) return (await branchExists(prisma, branchId)) ? { branchId, version: 0, updatedAt: null, updatedBy: null, policy: DEFAULT_DISPATCH_POLICY } : null;
  // Policies are validated on write; one that no longer parses (an older schema) must fail loudly
  // rather than be shown as if it were in force.
  return { branchId, version: row.version, updatedAt: row.updatedAt, updatedBy: row.updatedBy, policy: DispatchPolicySchema.parse(row.policy) };
}

/**
 * Stores a new policy version. expectedVersion: undefined writes unconditionally; 0 only when the
 * branch has no stored policy yet; n only when the stored version is still n.
 */
export async function putBranchPolicy(
  prisma: PrismaClient,
  input: { branchId: string; policy: DispatchPolicy; expectedVersion?: number; updatedBy: string },
  now: Date = new Date(),
): Promise<PutPolicyResult> {
  const { branchId, expectedVersion, updatedBy } = input;
  if (!(await branchExists(prisma, branchId))) return { ok: false, reason: "UNKNOWN_BRANCH" };
  const policy = DispatchPolicySchema.parse(input.policy) as Prisma.InputJsonObject;
  const stored = (version: number): PutPolicyResult => ({ ok: true, policy: { branchId, version, updatedAt: now, updatedBy, policy: input.policy } });
  const mismatch = async (): Promise<PutPolicyResult> => {
    const current = await prisma.dispatchPolicy.findUnique({ where: { branchId }, select: { version: true } });
    return { ok: false, reason: "VERSION_MISMATCH", currentVersion: current?.version ?? 0 };
  };
  // Every stored version is recorded in the audit in the transaction that stores it.
  const record = (tx: Prisma.TransactionClient, version: number) =>
    recordAction(tx, { type: "policy.changed", actor: updatedBy, at: now, branchId, data: { branchId, version, previousVersion: version - 1, policy } });
  const create = async (): Promise<PutPolicyResult | null> => {
    try {
      await prisma.$transaction(async (tx) => {
        await tx.dispatchPolicy.create({ data: { branchId, policy, version: 1, updatedBy, updatedAt: now } });
        await record(tx, 1);
      });
      return stored(1);
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  };

  if (expectedVersion === 0) return (await create()) ?? (await mismatch());

  if (expectedVersion !== undefined) {
    // UPDATE … WHERE version = expected: the database decides, no read-then-write window.
    const updated = await prisma.$transaction(async (tx) => {
      const { count } = await tx.dispatchPolicy.updateMany({
        where: { branchId, version: expectedVersion },
        data: { policy, version: expectedVersion + 1, updatedBy, updatedAt: now },
      });
      if (count === 1) await record(tx, expectedVersion + 1);
      return count === 1;
    });
    return updated ? stored(expectedVersion + 1) : await mismatch();
  }

  // Last writer wins, but the version still increments atomically in SQL, so concurrent writers get
  // distinct versions. A row created by someone else between our update and insert means retry.
  for (let attempt = 0; attempt < CREATE_RACE_RETRIES; attempt++) {
    const version = await prisma.$transaction(async (tx) => {
      const [row] = await tx.dispatchPolicy.updateManyAndReturn({
        where: { branchId },
        data: { policy, version: { increment: 1 }, updatedBy, updatedAt: now },
        select: { version: true },
      });
      if (row) await record(tx, row.version);
      return row?.version ?? null;
    });
    if (version !== null) return stored(version);
    const created = await create();
    if (created) return created;
  }
  throw new Error(`dispatch policy of ${branchId}: lost the create race ${CREATE_RACE_RETRIES} times`);
}

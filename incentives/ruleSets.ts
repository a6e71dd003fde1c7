/**
 * A branch's incentive rule sets: versioned drafts, one active version at a time. Activation (and
 * rollback, which is activating an earlier version) retires the previous active version in the same
 * transaction and records who did it in the event log.
 */
import { isUniqueViolation } from "../platform/databaseErrors.ts";
import { recordAction } from "../compliance/audit/actions.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import { newId } from "../core/ids.ts";
import { type RuleSet, RuleSetSchema } from "./rules/schema.ts";

export interface RuleSetVersion {
  id: string;
  branchId: string;
  version: number;
  status: "draft" | "active" | "retired";
  ruleSet: RuleSet;
  createdBy: string;
  createdAt: Date;
  activatedAt: Date | null;
}

type Row = Prisma.IncentiveRuleSetGetPayload<object>;
/** A stored rule set is parsed again on the way out: it was valid when written, and must still be. */
const toVersion = (row: Row): RuleSetVersion => ({ ...row, ruleSet: RuleSetSchema.parse(row.rules) });

export async function listRuleSets(prisma: PrismaClient, branchId: string): Promise<RuleSetVersion[]> {
  return (await prisma.incentiveRuleSet.findMany({ where: { branchId }, orderBy: { version: "desc" } })).map(toVersion);
}

export async function getRuleSet(prisma: PrismaClient, branchId: string, version: number): Promise<RuleSetVersion | null> {
  const row = await prisma.incentiveRuleSet.findUnique({ where: { branchId_version: { branchId, version } } });
  return row ? toVersion(row) : null;
}

export async function activeRuleSet(prisma: PrismaClient, branchId: string): Promise<RuleSetVersion | null> {
  const row = await prisma.incentiveRuleSet.findFirst({ where: { branchId, status: "active" } });
  return row ? toVersion(row) : null;
}

/** A new draft with the next version number; concurrent creators get distinct versions (retry on the unique key). */
export async function createDraft(prisma: PrismaClient, branchId: string, ruleSet: RuleSet, createdBy: string): Promise<RuleSetVersion> {
  for (let attempt = 0; ; attempt++) {
    const latest = await prisma.incentiveRuleSet.aggregate({ where: { branchId }, _max: { version: true } });
    try {
      const row = await prisma.incentiveRuleSet.create({
        data: {
          id: newId("ruleSet"),
          branchId,
          version: (latest._max.version ?? 0) + 1,
          status: "draft",
          rules: ruleSet as unknown as Prisma.InputJsonValue,
          createdBy,
        },
      });
      return toVersion(row);
    } catch (error) {
      const taken = isUniqueViolation(error);
      if (!taken || attempt >= 4) throw error;
    }
  }
}

export type ActivateOutcome = { ok: true; activated: RuleSetVersion; retired: number | null; duplicate: boolean } | { ok: false; reason: "NOT_FOUND" };

/**
 * Makes `version` the branch's active rule set. The row locks on the branch's rule sets serialise
 * concurrent activations; activating the version that is already active changes nothing.
 */
export async function activateRuleSet(prisma: PrismaClient, branchId: string, version: number, actor: string, now: Date): Promise<ActivateOutcome> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "IncentiveRuleSet" WHERE "branchId" = ${branchId} ORDER BY version FOR UPDATE`;
    const target = await tx.incentiveRuleSet.findUnique({ where: { branchId_version: { branchId, version } } });
    if (!target) return { ok: false, reason: "NOT_FOUND" } as const;
    if (target.status === "active") return { ok: true, activated: toVersion(target), retired: null, duplicate: true } as const;
    const previous = await tx.incentiveRuleSet.findFirst({ where: { branchId, status: "active" } });
    if (previous) await tx.incentiveRuleSet.update({ where: { id: previous.id }, data: { status: "retired" } });
    const activated = await tx.incentiveRuleSet.update({ where: { id: target.id }, data: { status: "active", activatedAt: now } });
    await recordAction(tx, {
      type: "incentive.rules_activated",
      actor,
      at: now,
      branchId,
      data: { branchId, version, previousVersion: previous?.version ?? null, rollback: target.status === "retired" },
    });
    return { ok: true, activated: toVersion(activated), retired: previous?.version ?? null, duplicate: false } as const;
  });
}

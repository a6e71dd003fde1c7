/**
 * Branches: the unit that owns advisors, clients, a dispatch policy and a manager. Branches are never
 * deleted (requests, ledgers and the audit trail refer to them), so "exists" checks cannot go stale.
 */
import { recordAction } from "../compliance/audit/actions.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { newId } from "../core/ids.ts";

export interface NewBranch {
  /** Who creates it (recorded in the audit). */
  actor: string;
  name: string;
  region: string;
  /** A canonical IANA zone (see canonicalTimeZone). */
  timezone: string;
}

/**
 * The canonical spelling of an IANA time zone ("europe/london" → "Europe/London"), or null when the
 * runtime's tz database does not know it. Offsets such as "+01:00" are refused: they are not zones
 * and ignore daylight saving, which is what branch opening hours need.
 */
export function canonicalTimeZone(value: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

export async function createBranch(prisma: PrismaClient, input: NewBranch, now: Date = new Date()): Promise<{ id: string }> {
  const id = newId("branch");
  await prisma.$transaction(async (tx) => {
    await tx.branch.create({ data: { id, name: input.name, region: input.region, timezone: input.timezone } });
    await recordAction(tx, {
      type: "branch.created",
      actor: input.actor,
      at: now,
      branchId: id,
      data: { branchId: id, name: input.name, region: input.region, timezone: input.timezone },
    });
  });
  return { id };
}

export async function branchExists(prisma: Pick<PrismaClient, "branch">, branchId: string): Promise<boolean> {
  return (await prisma.branch.count({ where: { id: branchId } })) > 0;
}

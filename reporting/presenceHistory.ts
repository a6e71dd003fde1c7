/**
 * The presence history (matching/presenceHistory.ts) on the record: an append-only
 * AdvisorPresenceChange row per transition, read by the branch KPIs' utilisation (reporting/kpiQuery.ts).
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { newId } from "../core/ids.ts";
import type { PresenceChange, PresenceHistory } from "../matching/presenceHistory.ts";

export function createPrismaPresenceHistory(prisma: PrismaClient): PresenceHistory {
  return {
    async record(change: PresenceChange) {
      await prisma.advisorPresenceChange.create({
        data: {
          id: newId("presenceChange", change.at),
          advisorId: change.advisorId,
          branchId: change.branchId,
          presence: change.presence,
          at: new Date(change.at),
        },
      });
    },
  };
}

/** A branch's presence changes (oldest first), for tools and tests. */
export async function presenceChanges(prisma: PrismaClient, branchId: string): Promise<PresenceChange[]> {
  const rows = await prisma.advisorPresenceChange.findMany({ where: { branchId }, orderBy: [{ at: "asc" }, { id: "asc" }] });
  return rows.map((r) => ({ advisorId: r.advisorId, branchId: r.branchId, presence: r.presence as PresenceChange["presence"], at: r.at.getTime() }));
}

/** The audit trail in global order for an export: events of a time window after a sequence number, a page at a time. */
import type { AuditEvent, PrismaClient } from "../../generated/prisma/client.ts";

export async function auditEventsAfter(
  prisma: Pick<PrismaClient, "auditEvent">,
  page: { after: bigint; from: Date; to: Date; take: number },
): Promise<AuditEvent[]> {
  return prisma.auditEvent.findMany({ where: { seq: { gt: page.after }, at: { gte: page.from, lt: page.to } }, orderBy: { seq: "asc" }, take: page.take });
}

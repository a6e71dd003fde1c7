/**
 * Connections the firm owns: an assignment opens one (client, advisor, request); completion or the
 * cancellation of an assigned request closes it. They are written with the decision that opens or
 * closes them, in the journal's batch write (matching/records/applyJournal.ts), so a replayed
 * entry changes nothing; this module reads them.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";

export interface ConnectionRow {
  id: string;
  clientId: string;
  advisorId: string;
  requestId: string;
  openedAt: Date;
  closedAt: Date | null;
  closeReason: string | null;
}

/** The request's open connection, if any. */
export async function openConnectionFor(prisma: PrismaClient, requestId: string): Promise<ConnectionRow | null> {
  return prisma.connection.findFirst({ where: { requestId, closedAt: null }, orderBy: { openedAt: "desc" } });
}

/** Every connection of a request, oldest first (a reassignment would leave more than one). */
export async function connectionsOf(prisma: PrismaClient, requestId: string): Promise<ConnectionRow[]> {
  return prisma.connection.findMany({ where: { requestId }, orderBy: { openedAt: "asc" } });
}

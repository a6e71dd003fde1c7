/**
 * Connections the firm owns: an assignment opens one (client, advisor, request); completion or the
 * cancellation of an assigned request closes it. Driven by the in-process event bus after each
 * decision is persisted; every step is idempotent, so a replayed event changes nothing.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Logger } from "../../core/logger.ts";
import { newId } from "../../core/ids.ts";
import type { EventBus } from "../../matching/events.ts";

export type CloseReason = "completed" | "cancelled";

export interface ConnectionRow {
  id: string;
  clientId: string;
  advisorId: string;
  requestId: string;
  openedAt: Date;
  closedAt: Date | null;
  closeReason: string | null;
}

/**
 * Opens the connection of (requestId, advisorId) unless one exists (open or closed). The request row
 * is locked so two deliveries of the same event cannot both insert.
 */
export async function openConnection(
  prisma: PrismaClient,
  input: { requestId: string; clientId: string; advisorId: string; at: Date },
): Promise<{ connection: ConnectionRow; created: boolean }> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT id FROM "ServiceRequest" WHERE id = ${input.requestId} FOR UPDATE`;
      const existing = await tx.connection.findFirst({ where: { requestId: input.requestId, advisorId: input.advisorId } });
      if (existing) return { connection: existing, created: false };
      const connection = await tx.connection.create({
        data: { id: newId("connection"), requestId: input.requestId, clientId: input.clientId, advisorId: input.advisorId, openedAt: input.at },
      });
      return { connection, created: true };
    },
    { maxWait: 60_000, timeout: 30_000 },
  );
}

/** Closes the request's open connections; closing an already closed one changes nothing. Returns how many closed. */
export async function closeConnections(prisma: PrismaClient, requestId: string, reason: CloseReason, at: Date): Promise<number> {
  const { count } = await prisma.connection.updateMany({ where: { requestId, closedAt: null }, data: { closedAt: at, closeReason: reason } });
  return count;
}

/** The request's open connection, if any. */
export async function openConnectionFor(prisma: PrismaClient, requestId: string): Promise<ConnectionRow | null> {
  return prisma.connection.findFirst({ where: { requestId, closedAt: null }, orderBy: { openedAt: "desc" } });
}

/** Every connection of a request, oldest first (a reassignment would leave more than one). */
export async function connectionsOf(prisma: PrismaClient, requestId: string): Promise<ConnectionRow[]> {
  return prisma.connection.findMany({ where: { requestId }, orderBy: { openedAt: "asc" } });
}

/** Subscribes the connection lifecycle to the bus; returns the unsubscribe function. */
export function wireConnections(bus: EventBus, prisma: PrismaClient, logger: Logger): () => void {
  return bus.subscribe(async (event) => {
    try {
      switch (event.type) {
        case "request.assigned":
          await openConnection(prisma, { requestId: event.requestId, clientId: event.clientId, advisorId: event.advisorId, at: new Date(event.at) });
          return;
        case "request.completed":
          await closeConnections(prisma, event.requestId, "completed", new Date(event.at));
          return;
        case "request.cancelled":
          if (event.advisorId) await closeConnections(prisma, event.requestId, "cancelled", new Date(event.at));
          return;
      }
    } catch (error) {
      logger.error({ err: error, type: event.type, requestId: event.requestId }, "connection bookkeeping failed");
      throw error;
    }
  });
}

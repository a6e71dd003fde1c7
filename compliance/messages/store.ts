/**
 * The recorded conversation of a request. A message is stored before it is delivered: one transaction
 * locks the request row (serialising writers of one conversation), checks the conversation is open,
 * takes the next seq and the previous hash, and inserts the hash-chained row.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { newId } from "../../core/ids.ts";
import { GENESIS, hashEntry, messageHashFields } from "../audit/hash.ts";

export interface MessageRow {
  id: string;
  requestId: string;
  senderId: string;
  senderRole: string;
  body: string;
  sentAt: Date;
  seq: number;
  prevHash: string;
  hash: string;
}

export interface MessageView {
  id: string;
  requestId: string;
  senderId: string;
  senderRole: string;
  body: string;
  sentAt: string;
  seq: number;
  prevHash: string;
  hash: string;
}

export function toMessageView(row: MessageRow): MessageView {
  return { ...row, sentAt: row.sentAt.toISOString() };
}

export type AppendOutcome =
  /** duplicate: the sender's Idempotency-Key was used before with the same body; nothing new was stored. */
  | { ok: true; message: MessageRow; clientId: string; advisorId: string; duplicate: boolean }
  | { ok: false; reason: "NOT_FOUND" | "NOT_A_PARTY" | "CLOSED" | "IDEMPOTENCY_CONFLICT" };

const TRANSACTION_OPTIONS = { maxWait: 60_000, timeout: 30_000 } as const;

/**
 * Appends a message from `sender` (the request's client or its currently assigned advisor) while the
 * request is assigned and its connection open.
 */
export async function appendMessage(
  prisma: PrismaClient,
  input: { requestId: string; senderId: string; senderRole: "client" | "advisor"; body: string; idempotencyKey?: string | null },
): Promise<AppendOutcome> {
  return prisma.$transaction(async (tx): Promise<AppendOutcome> => {
    const locked = await tx.$queryRaw<Array<{ clientId: string; assignedAdvisorId: string | null; status: string }>>`
      SELECT "clientId", "assignedAdvisorId", status::text AS status FROM "ServiceRequest" WHERE id = ${input.requestId} FOR UPDATE`;
    const request = locked[0];
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    const party = input.senderRole === "client" ? request.clientId === input.senderId : request.assignedAdvisorId === input.senderId;
    if (!party) return { ok: false, reason: "NOT_A_PARTY" };
    // Checked under the request's row lock, so two retries of one send cannot both insert; before the
    // open check, so a retry that arrives after the close still gets its original answer.
    if (input.idempotencyKey) {
      const earlier = await tx.message.findFirst({ where: { requestId: input.requestId, senderId: input.senderId, idempotencyKey: input.idempotencyKey } });
      if (earlier) {
        if (earlier.body !== input.body) return { ok: false, reason: "IDEMPOTENCY_CONFLICT" };
        return {
          ok: true,
          message: withoutKey(earlier),
          clientId: request.clientId,
          advisorId: request.assignedAdvisorId ?? earlier.senderId,
          duplicate: true,
        };
      }
    }
    if (request.status !== "assigned" || !request.assignedAdvisorId) return { ok: false, reason: "CLOSED" };
    const connection = await tx.connection.findFirst({
      where: { requestId: input.requestId, advisorId: request.assignedAdvisorId, closedAt: null },
      select: { id: true },
    });
    if (!connection) return { ok: false, reason: "CLOSED" };

    const last = await tx.message.findFirst({ where: { requestId: input.requestId }, orderBy: { seq: "desc" }, select: { seq: true, hash: true } });
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS;
    const fields = {
      id: newId("message"),
      requestId: input.requestId,
      senderId: input.senderId,
      senderRole: input.senderRole,
      body: input.body,
      sentAt: new Date(),
      seq,
    };
    const hash = hashEntry(prevHash, messageHashFields(fields));
    const message = await tx.message.create({ data: { ...fields, prevHash, hash, idempotencyKey: input.idempotencyKey ?? null } });
    return { ok: true, message: withoutKey(message), clientId: request.clientId, advisorId: request.assignedAdvisorId, duplicate: false };
  }, TRANSACTION_OPTIONS);
}

/** Who may take part in a request's conversation: its client, its branch and its assigned advisor; null for no such request. */
export async function requestParties(
  prisma: Pick<PrismaClient, "serviceRequest">,
  requestId: string,
): Promise<{ clientId: string; branchId: string; assignedAdvisorId: string | null } | null> {
  return prisma.serviceRequest.findUnique({ where: { id: requestId }, select: { clientId: true, branchId: true, assignedAdvisorId: true } });
}

/** The conversation in seq order. */
export async function listMessages(prisma: PrismaClient, requestId: string): Promise<MessageRow[]> {
  return prisma.message.findMany({ where: { requestId }, orderBy: { seq: "asc" }, omit: { idempotencyKey: true } });
}

/** The sender's key stays private to the sender's retries: readers of the record never see it. */
function withoutKey(row: MessageRow & { idempotencyKey: string | null }): MessageRow {
  const { idempotencyKey: _key, ...message } = row;
  return message;
}

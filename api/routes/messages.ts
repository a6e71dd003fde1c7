/**
 * The recorded conversation of a request: its client and currently assigned advisor write while the
 * connection is open; they, the branch's manager, compliance and admins read. Every message is
 * stored (hash-chained, in seq order) before it is delivered to both parties' sockets.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { appendMessage, listMessages, requestParties, toMessageView } from "../../compliance/messages/store.ts";
import { mayReadRequest, principalOf, type RequestAccess } from "../auth/middleware.ts";
import type { Principal } from "../auth/principal.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, idParam, text, json, CONFLICT_RESPONSE, IdempotencyHeaders } from "../schemas.ts";

const MessageBody = z
  .object({ body: text(1, 4000) })
  .strict()
  .openapi("NewMessage");
export const MessageSchema = z
  .object({
    id: z.string(),
    requestId: z.string(),
    senderId: z.string(),
    senderRole: z.string(),
    body: z.string(),
    sentAt: z.string(),
    seq: z.number().int(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi("Message");
const RequestParams = z.object({ id: idParam("request") });

const postMessageRoute = createRoute({
  method: "post",
  path: "/v1/requests/{id}/messages",
  tags: ["conversation"],
  summary: "Send a message in the request's conversation (client or assigned advisor, while the connection is open)",
  request: { params: RequestParams, headers: IdempotencyHeaders, body: { required: true, content: json(MessageBody) } },
  responses: {
    201: { description: "stored, then delivered", content: json(MessageSchema) },
    200: { description: "a retry (same Idempotency-Key and body): the message stored the first time, not delivered again", content: json(MessageSchema) },
    ...COMMON_ERRORS,
    409: { description: "IDEMPOTENCY_CONFLICT: the key was used with another body", content: CONFLICT_RESPONSE[409].content },
  },
});

const listMessagesRoute = createRoute({
  method: "get",
  path: "/v1/requests/{id}/messages",
  tags: ["conversation"],
  summary: "The request's conversation in seq order, with its hash chain",
  request: { params: RequestParams },
  responses: { 200: { description: "the messages", content: json(z.object({ messages: z.array(MessageSchema) })) }, ...COMMON_ERRORS },
});

export function messageRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;

  /** The request when the caller may read it; someone else's request is indistinguishable from none. */
  async function readable(principal: Principal, id: string): Promise<RequestAccess> {
    const request = await requestParties(prisma, id);
    if (!request || !mayReadRequest(principal, request)) throw new AppError("NOT_FOUND", "no such request");
    return request;
  }

  return createRouter()
    .openapi(postMessageRoute, async (c) => {
      const principal = principalOf(c);
      const id = c.req.valid("param").id;
      // Writing is for the two parties only: anyone else (a third party included) is refused with
      // 403, while an id that names no request stays 404.
      if (principal.role !== "client" && principal.role !== "advisor") {
        throw new AppError("FORBIDDEN", "only the request's client and its assigned advisor may write in the conversation");
      }
      const idempotencyKey = c.req.valid("header")["idempotency-key"] ?? null;
      const outcome = await appendMessage(prisma, {
        requestId: id,
        senderId: principal.sub,
        senderRole: principal.role,
        body: c.req.valid("json").body,
        idempotencyKey,
      });
      if (!outcome.ok) {
        if (outcome.reason === "NOT_FOUND") throw new AppError("NOT_FOUND", "no such request");
        if (outcome.reason === "IDEMPOTENCY_CONFLICT") throw new AppError("IDEMPOTENCY_CONFLICT", "this Idempotency-Key was used with a different message");
        if (outcome.reason === "NOT_A_PARTY")
          throw new AppError("FORBIDDEN", "only the request's client and its currently assigned advisor may write in the conversation");
        throw new AppError("FORBIDDEN", "the conversation is closed: messages can be sent only while the request is assigned and its connection open");
      }
      const message = toMessageView(outcome.message);
      if (outcome.duplicate) return c.json(message, 200);
      // Stored first; delivery is best effort (the conversation can always be read back with GET).
      await deps.fanout
        ?.publish({ to: [outcome.clientId, outcome.advisorId], message: { type: "message", message } })
        .catch((error) => deps.logger.error({ err: error, requestId: id, messageId: message.id }, "message delivery failed"));
      return c.json(message, 201);
    })
    .openapi(listMessagesRoute, async (c) => {
      const principal = principalOf(c);
      const id = c.req.valid("param").id;
      await readable(principal, id);
      const messages = await listMessages(prisma, id);
      return c.json({ messages: messages.map(toMessageView) }, 200);
    });
}

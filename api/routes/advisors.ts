/**
 * Advisor self-service: presence (which is also the heartbeat), the open offers, accept (push
 * offers and grabs alike) and decline.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError, type ErrorCode } from "../../core/errors.ts";
import { PRESENCES } from "../../matching/domain/types.ts";
import type { AcceptOutcome } from "../../matching/engine/engine.ts";
import { listOpenOffers } from "../../matching/records/openOffers.ts";
import { requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { rateLimited } from "../rateLimit.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, idParam, json } from "../schemas.ts";

const PresenceBody = z
  .object({ status: z.enum(PRESENCES) })
  .strict()
  .openapi("Presence");
const OfferSchema = z
  .object({
    offerId: z.string(),
    requestId: z.string(),
    kind: z.enum(["push", "broadcast"]),
    expiresAt: z.string(),
    sentAt: z.string().openapi({ description: "when the offer was made (server clock)" }),
    requestCreatedAt: z
      .string()
      .openapi({ description: "when its request was created (server clock); sentAt minus this is the server's create-to-offer time" }),
    topic: z.string(),
    requiredLicence: z.string(),
    channel: z.string(),
  })
  .openapi("Offer");
const OfferParams = z.object({ id: idParam("offer") });

const presenceRoute = createRoute({
  method: "put",
  path: "/v1/advisors/me/presence",
  tags: ["advisor"],
  summary: "Set presence; also the heartbeat (send at least every 30 s while available)",
  request: { body: { required: true, content: json(PresenceBody) } },
  responses: { 200: { description: "presence recorded", content: json(z.object({ status: z.enum(PRESENCES), heartbeatAt: z.string() })) }, ...COMMON_ERRORS },
});

const offersRoute = createRoute({
  method: "get",
  path: "/v1/advisors/me/offers",
  tags: ["advisor"],
  summary: "Open offers for me",
  responses: { 200: { description: "open offers, soonest expiry first", content: json(z.array(OfferSchema)) }, ...COMMON_ERRORS },
});

const acceptRoute = createRoute({
  method: "post",
  path: "/v1/offers/{id}/accept",
  tags: ["advisor"],
  summary: "Accept an offer (or grab a broadcast): the first accept wins",
  request: { params: OfferParams },
  responses: {
    200: { description: "assigned to you", content: json(z.object({ requestId: z.string(), status: z.literal("assigned") })) },
    ...COMMON_ERRORS,
    409: { description: "OFFER_EXPIRED, ALREADY_TAKEN, AT_CAPACITY or NOT_ELIGIBLE", content: CONFLICT_RESPONSE[409].content },
  },
});

const declineRoute = createRoute({
  method: "post",
  path: "/v1/offers/{id}/decline",
  tags: ["advisor"],
  summary: "Decline an offer; the request moves on at once",
  request: { params: OfferParams },
  responses: {
    200: { description: "declined", content: json(z.object({ requestId: z.string(), status: z.literal("declined") })) },
    ...COMMON_ERRORS,
    ...CONFLICT_RESPONSE,
  },
});

const ACCEPT_ERRORS: Record<Exclude<AcceptOutcome, { ok: true }>["reason"], [ErrorCode, string]> = {
  NOT_FOUND: ["NOT_FOUND", "no such offer"],
  NOT_YOURS: ["FORBIDDEN", "this offer was made to another advisor"],
  OFFER_EXPIRED: ["OFFER_EXPIRED", "the offer has expired or was withdrawn"],
  ALREADY_TAKEN: ["ALREADY_TAKEN", "another advisor took this request"],
  AT_CAPACITY: ["AT_CAPACITY", "you are at your maximum number of concurrent clients"],
  NOT_ELIGIBLE: ["NOT_ELIGIBLE", "you are not eligible for this request right now (presence, licence, suitability or language)"],
};

export function advisorRoutes(deps: AppDeps) {
  const { engine } = deps.matching;
  const prisma = deps.backends.database.prisma;
  const acceptLimit = { action: "offers.accept", limit: deps.config.rateLimits.acceptsPerMinute, windowMs: 60_000 };

  const router = createRouter();
  router.use("/v1/offers/:id/accept", rateLimited(deps.limiter, acceptLimit));

  return router
    .openapi(presenceRoute, async (c) => {
      const principal = requireRole(c, "advisor");
      const result = await engine.setPresence(principal.sub, c.req.valid("json").status);
      if (!result.ok) throw new AppError("FORBIDDEN", "this token's subject is not a known advisor");
      const { presence, heartbeatAt } = result.advisor.supply;
      return c.json({ status: presence, heartbeatAt: new Date(heartbeatAt).toISOString() }, 200);
    })
    .openapi(offersRoute, async (c) => {
      const principal = requireRole(c, "advisor");
      return c.json(await listOpenOffers(prisma, principal.sub), 200);
    })
    .openapi(acceptRoute, async (c) => {
      const principal = requireRole(c, "advisor");
      const outcome = await engine.accept(c.req.valid("param").id, principal.sub);
      if (!outcome.ok) {
        const [code, message] = ACCEPT_ERRORS[outcome.reason];
        throw new AppError(code, message);
      }
      return c.json({ requestId: outcome.requestId, status: "assigned" as const }, 200);
    })
    .openapi(declineRoute, async (c) => {
      const principal = requireRole(c, "advisor");
      const outcome = await engine.decline(c.req.valid("param").id, principal.sub);
      if (!outcome.ok) {
        if (outcome.reason === "NOT_YOURS") throw new AppError("FORBIDDEN", "this offer was made to another advisor");
        if (outcome.reason === "ALREADY_CLOSED") throw new AppError("OFFER_EXPIRED", "the offer is no longer open");
        throw new AppError("NOT_FOUND", "no such offer");
      }
      return c.json({ requestId: outcome.requestId, status: "declined" as const }, 200);
    });
}

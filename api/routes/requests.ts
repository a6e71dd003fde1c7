/**
 * Client routes: create a request (idempotently), read it with its timeline, cancel it, rate it; and
 * the assigned advisor's completion.
 */
import { createHash } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { CHANNELS, LICENCE_KINDS } from "../../matching/domain/types.ts";
import { loadFreshRequestView } from "../../matching/records/requestView.ts";
import { mayReadRequest, principalOf, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { admitted, createAdmission } from "../admission.ts";
import { rateLimited } from "../rateLimit.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, idParam, LanguageTag, text, json, IdempotencyHeaders } from "../schemas.ts";

const CreateRequestBody = z
  .object({
    topic: text(1, 200),
    requiredLicence: z.enum(LICENCE_KINDS),
    channel: z.enum(CHANNELS),
    mode: z.enum(["dispatch", "grab", "auto"]).default("auto"),
    language: LanguageTag.optional(),
    priority: z.number().int().min(0).max(9).default(0),
  })
  .strict()
  .openapi("CreateRequest");

const RequestCreated = z.object({ id: z.string(), status: z.string() }).openapi("RequestCreated");
const RequestViewSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    mode: z.string(),
    stage: z.string(),
    topic: z.string(),
    requiredLicence: z.string(),
    channel: z.string(),
    createdAt: z.string(),
    assignedAt: z.string().optional(),
    callbackRequested: z.boolean(),
    advisor: z
      .object({
        id: z.string(),
        name: z.string(),
        licence: z.object({ kind: z.string(), number: z.string(), validUntil: z.string() }),
        rating: z
          .object({ average: z.number().nullable().describe("mean stars, to one decimal; null when count is 0"), count: z.number().int() })
          .describe("every rating clients have given this advisor"),
      })
      .optional(),
    timeline: z.array(z.object({ at: z.string(), event: z.string() })),
  })
  .openapi("Request");
const RatingBody = z
  .object({ stars: z.number().int().min(1).max(5), comment: text(0, 2000).optional() })
  .strict()
  .openapi("Rating");
const RequestParams = z.object({ id: idParam("request") });

const createRequestRoute = createRoute({
  method: "post",
  path: "/v1/requests",
  tags: ["client"],
  summary: "Ask for an advisor now",
  request: { headers: IdempotencyHeaders, body: { required: true, content: json(CreateRequestBody) } },
  responses: {
    201: { description: "created", content: json(RequestCreated) },
    200: { description: "an idempotent replay: the request made earlier with this key", content: json(RequestCreated) },
    ...COMMON_ERRORS,
    ...CONFLICT_RESPONSE,
  },
});

const getRequestRoute = createRoute({
  method: "get",
  path: "/v1/requests/{id}",
  tags: ["client"],
  summary: "A request with its advisor and timeline",
  request: { params: RequestParams },
  responses: { 200: { description: "the request", content: json(RequestViewSchema) }, ...COMMON_ERRORS },
});

const cancelRoute = createRoute({
  method: "post",
  path: "/v1/requests/{id}/cancel",
  tags: ["client"],
  summary: "Cancel a pending, offered or assigned request",
  request: { params: RequestParams },
  responses: { 200: { description: "cancelled", content: json(RequestCreated) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const rateRoute = createRoute({
  method: "post",
  path: "/v1/requests/{id}/rating",
  tags: ["client"],
  summary: "Rate a completed request, once",
  request: { params: RequestParams, body: { required: true, content: json(RatingBody) } },
  responses: { 201: { description: "rated", content: json(z.object({ requestId: z.string(), stars: z.number() })) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const completeRoute = createRoute({
  method: "post",
  path: "/v1/requests/{id}/complete",
  tags: ["advisor"],
  summary: "The assigned advisor completes the request",
  request: { params: RequestParams },
  responses: { 200: { description: "completed", content: json(RequestCreated) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

/** A stable hash of the creation body, so a replay with the same key and body is recognised. */
function bodyHash(body: unknown): string {
  const canonical = JSON.stringify(body, Object.keys(body as object).sort());
  return createHash("sha256").update(canonical).digest("hex");
}

export function requestRoutes(deps: AppDeps) {
  const { engine } = deps.matching;
  const prisma = deps.backends.database.prisma;
  const createLimit = { action: "requests.create", limit: deps.config.rateLimits.requestsPerMinute, windowMs: 60_000 };

  // One per app (so per process): creations past the bound answer 503 at once (api/admission.ts).
  const admit = admitted(createAdmission(deps.config.maxCreatesInFlight));
  const router = createRouter();
  router.use("/v1/requests", async (c, next) =>
    c.req.method === "POST" ? rateLimited(deps.limiter, createLimit)(c, async () => void (await admit(c, next))) : next(),
  );

  return router
    .openapi(createRequestRoute, async (c) => {
      const principal = requireRole(c, "client");
      const body = c.req.valid("json");
      const key = c.req.valid("header")["idempotency-key"] ?? null;
      const outcome = await engine.createRequest({
        clientId: principal.sub,
        topic: body.topic,
        requiredLicence: body.requiredLicence,
        channel: body.channel,
        mode: body.mode,
        language: body.language ?? null,
        priority: body.priority,
        idempotencyKey: key,
        requestHash: key ? bodyHash(body) : null,
      });
      if (!outcome.ok) {
        if (outcome.reason === "UNKNOWN_CLIENT") throw new AppError("FORBIDDEN", "this token's subject is not a known client");
        if (outcome.reason === "OVERLOADED") throw new AppError("UNAVAILABLE", "the service is catching up with its record; retry shortly");
        throw new AppError("IDEMPOTENCY_CONFLICT", "this Idempotency-Key was used with a different body");
      }
      // A replay reports the request as it stands now; a new one, as the live store left it.
      const status = outcome.status ?? (await deps.matching.records.requestSummary(outcome.requestId))?.status;
      if (!status) throw new AppError("NOT_FOUND", `request ${outcome.requestId} not found`);
      return c.json({ id: outcome.requestId, status }, outcome.created ? 201 : 200);
    })
    .openapi(getRequestRoute, async (c) => {
      const principal = principalOf(c);
      const view = await loadFreshRequestView(prisma, engine.store, c.req.valid("param").id);
      // Someone else's request is indistinguishable from none at all.
      if (!view || !mayReadRequest(principal, { ...view, assignedAdvisorId: view.advisor?.id ?? null })) throw new AppError("NOT_FOUND", "no such request");
      const { clientId: _client, branchId: _branch, liveRev: _rev, ...visible } = view;
      return c.json(visible, 200);
    })
    .openapi(cancelRoute, async (c) => {
      const principal = requireRole(c, "client");
      const id = c.req.valid("param").id;
      const outcome = await engine.cancel(id, principal.sub);
      if (!outcome.ok) {
        if (outcome.reason === "INVALID_STATE") throw new AppError("INVALID_STATE", "the request has already ended");
        throw new AppError("NOT_FOUND", "no such request");
      }
      return c.json({ id, status: "cancelled" }, 200);
    })
    .openapi(rateRoute, async (c) => {
      const principal = requireRole(c, "client");
      const id = c.req.valid("param").id;
      const body = c.req.valid("json");
      const outcome = await engine.rate(id, principal.sub, body.stars, body.comment ?? null);
      if (!outcome.ok) {
        if (outcome.reason === "NOT_COMPLETED") throw new AppError("INVALID_STATE", "only a completed request can be rated");
        if (outcome.reason === "ALREADY_RATED") throw new AppError("CONFLICT", "this request has already been rated");
        throw new AppError("NOT_FOUND", "no such request");
      }
      return c.json({ requestId: id, stars: body.stars }, 201);
    })
    .openapi(completeRoute, async (c) => {
      const principal = requireRole(c, "advisor");
      const id = c.req.valid("param").id;
      const outcome = await engine.complete(id, principal.sub);
      if (!outcome.ok) {
        if (outcome.reason === "INVALID_STATE") throw new AppError("INVALID_STATE", "the request is not in progress");
        throw new AppError("NOT_FOUND", "no such request assigned to you");
      }
      return c.json({ id, status: "completed" }, 200);
    });
}

/**
 * The decision record of a request, for compliance (every branch), admins and the manager of the
 * request's branch: the request as recorded, the funnel stages, every offer with the eligibility
 * snapshot that justified it, the matching decisions, the assignment, connection, conversation and
 * rating. Clients and advisors are refused outright; a manager of another branch gets 404, because
 * the request id alone must not reveal that the request exists.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { loadDecisionRecord, requestBranchOf } from "../../compliance/record/decisionRecord.ts";
import { INELIGIBLE_REASONS } from "../../matching/domain/eligibility.ts";
import { FUNNEL_POOLS, STAGE_POOLS } from "../../matching/domain/policy.ts";
import { LICENCE_KINDS, PRESENCES } from "../../matching/domain/types.ts";
import { canSeeBranch, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, idParam, json } from "../schemas.ts";
import { MessageSchema } from "./messages.ts";

const StagePool = z.enum(STAGE_POOLS);
/** Instants in responses are ISO 8601 strings in UTC, as everywhere in the API. */
const IsoInstant = z.string().openapi({ format: "date-time" });
const AdvisorRef = z.object({ id: z.string(), name: z.string() }).openapi("RecordAdvisor");

const RecordedRequestSchema = z
  .object({
    id: z.string(),
    clientId: z.string(),
    branchId: z.string(),
    topic: z.string(),
    requiredLicence: z.enum(LICENCE_KINDS),
    channel: z.string(),
    mode: z.string(),
    language: z.string().nullable(),
    priority: z.number().int(),
    riskLevel: z.number().int().openapi({ description: "the client's risk level when the request was made" }),
    region: z.string().openapi({ description: "the branch's region when the request was made" }),
    status: z.string(),
    stage: StagePool.nullable().openapi({ description: "the current stage; null in the queue" }),
    stageIndex: z.number().int(),
    callbackRequested: z.boolean(),
    createdAt: IsoInstant,
    offeredAt: IsoInstant.nullable(),
    assignedAt: IsoInstant.nullable(),
    completedAt: IsoInstant.nullable(),
    cancelledAt: IsoInstant.nullable(),
    expiredAt: IsoInstant.nullable(),
  })
  .openapi("RecordedRequest");

const RecordedStageSchema = z
  .object({
    stageIndex: z.number().int(),
    pool: StagePool,
    startedAt: IsoInstant,
    source: z.enum(["event", "request", "offer", "current_policy"]).openapi({
      description:
        "where the pool was read from: event (request.stage_changed) for every later stage; for stage 0, the request row (no stage change yet), " +
        "an offer made in it, or, when neither recorded it, the branch's current policy",
    }),
  })
  .openapi("RecordedStage");

const EligibilitySnapshotSchema = z
  .object({
    checkedAt: IsoInstant,
    licence: z.object({ id: z.string(), kind: z.enum(LICENCE_KINDS), number: z.string(), issuer: z.string(), validFrom: IsoInstant, validUntil: IsoInstant }),
    suitability: z.object({ advisorMaxRisk: z.number().int(), clientRisk: z.number().int() }),
    language: z.object({ requested: z.string().nullable(), advisor: z.array(z.string()) }),
    presence: z.enum(PRESENCES),
    active: z.number().int(),
    pendingPush: z.number().int(),
    maxConcurrent: z.number().int(),
  })
  .openapi("EligibilitySnapshot", { description: "the facts that made the advisor eligible when the offer was made, copied then" });

const RecordedOfferSchema = z
  .object({
    id: z.string(),
    advisor: AdvisorRef,
    kind: z.enum(["push", "broadcast"]),
    stage: z.enum(FUNNEL_POOLS).openapi({ description: "the pool the offer was made in (a queue offer: the pool the queue reached, the funnel's widest)" }),
    stageIndex: z.number().int(),
    sentAt: IsoInstant,
    expiresAt: IsoInstant,
    outcome: z.enum(["accepted", "declined", "timed_out", "withdrawn", "lost_race"]).nullable(),
    respondedAt: IsoInstant.nullable(),
    eligibility: EligibilitySnapshotSchema,
  })
  .openapi("RecordedOffer");

const MatchingDecisionSchema = z
  .object({
    at: IsoInstant,
    stage: StagePool,
    offered: z.array(z.string()).openapi({ description: "advisor ids offered at this step" }),
    excluded: z.partialRecord(z.enum(INELIGIBLE_REASONS), z.array(z.string())).openapi({ description: "advisor ids the eligibility rules refused, by rule" }),
  })
  .openapi("MatchingDecision");

const DecisionRecordSchema = z
  .object({
    request: RecordedRequestSchema,
    stages: z.array(RecordedStageSchema).openapi({ description: "the funnel stages entered, in order" }),
    offers: z.array(RecordedOfferSchema).openapi({ description: "every offer, in the order sent" }),
    decisions: z.array(MatchingDecisionSchema).openapi({ description: "the request.decided events, in order" }),
    assignment: z.object({ advisor: AdvisorRef, assignedAt: IsoInstant.nullable(), offerId: z.string().nullable() }).nullable(),
    connections: z.array(
      z.object({ id: z.string(), advisorId: z.string(), openedAt: IsoInstant, closedAt: IsoInstant.nullable(), closeReason: z.string().nullable() }),
    ),
    messages: z.array(MessageSchema),
    rating: z.object({ id: z.string(), stars: z.number().int(), comment: z.string().nullable(), ratedAt: IsoInstant }).nullable(),
  })
  .openapi("DecisionRecord");

const recordRoute = createRoute({
  method: "get",
  path: "/v1/requests/{id}/record",
  tags: ["compliance"],
  summary: "Why this advisor: the request's decision record (compliance, admins, the branch's manager)",
  request: { params: z.object({ id: idParam("request") }) },
  responses: { 200: { description: "the decision record", content: json(DecisionRecordSchema) }, ...COMMON_ERRORS },
});

export function recordRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  return createRouter().openapi(recordRoute, async (c) => {
    const principal = requireRole(c, "compliance", "admin", "manager");
    const id = c.req.valid("param").id;
    const branchId = await requestBranchOf(prisma, id);
    if (!branchId || (principal.role !== "compliance" && !canSeeBranch(principal, branchId))) throw new AppError("NOT_FOUND", "no such request");
    const record = await loadDecisionRecord(prisma, id);
    if (!record) throw new AppError("NOT_FOUND", "no such request");
    return c.json(record, 200);
  });
}

/**
 * Reporting over the record. Branch reporting for managers (own branch) and admins: the KPIs of a
 * branch's requests per local hour or day (what each figure means: reporting/kpis.ts). Addressed by
 * branch id, so another branch answers 403; an unknown one 404. And a request's wait estimate
 * (reporting/waitEstimate.ts), for whoever may read the request: addressed by request id, so
 * someone else's answers 404, like GET /v1/requests/{id}.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { branchKpis, KPI_BUCKETS, kpiRangeProblem } from "../../reporting/kpis.ts";
import { MIN_SAMPLE, WAIT_WINDOW_DAYS, waitEstimate } from "../../reporting/waitEstimate.ts";
import { mayReadRequest, principalOf, requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { admitted, createAdmission } from "../admission.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, idParam, Instant, json } from "../schemas.ts";

const BranchParams = z.object({ id: idParam("branch") });

const KpiQuery = z
  .object({
    from: Instant.openapi({ param: { name: "from", in: "query" }, description: "inclusive, on createdAt" }),
    to: Instant.openapi({ param: { name: "to", in: "query" }, description: "exclusive" }),
    bucket: z
      .enum(KPI_BUCKETS)
      .default("day")
      .openapi({ param: { name: "bucket", in: "query" } }),
  })
  .superRefine((q, ctx) => {
    const problem = kpiRangeProblem({ from: new Date(q.from), to: new Date(q.to), bucket: q.bucket });
    if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["to"] });
  });

const rate = z.number().nullable();
const Percentiles = z.object({ p50: z.number().nullable(), p90: z.number().nullable() });
export const KpisSchema = z
  .object({
    created: z.number().int(),
    assigned: z.number().int(),
    completed: z.number().int(),
    abandoned: z.number().int(),
    callbacks: z.number().int(),
    answerRate: rate,
    abandonmentRate: rate,
    timeToFirstOfferMs: Percentiles,
    timeToAcceptMs: Percentiles,
    answeredByStage: z.object({
      dedicated: z.number().int(),
      branch: z.number().int(),
      region: z.number().int(),
      national: z.number().int(),
      queue: z.number().int(),
    }),
    offers: z.number().int(),
    declineRate: rate,
    timeoutRate: rate,
    utilisation: rate.describe(
      "assigned advisor-seconds / available advisor-seconds of the branch's advisors in the bucket (from the presence history); null when nobody was available",
    ),
    meanRating: z.number().nullable(),
    pointsPerCompleted: z.number().nullable(),
  })
  .openapi("Kpis");

const BranchKpisSchema = z
  .object({
    branchId: z.string(),
    timezone: z.string(),
    from: z.string(),
    to: z.string(),
    bucket: z.enum(KPI_BUCKETS),
    buckets: z.array(KpisSchema.extend({ start: z.string() })),
    total: KpisSchema,
  })
  .openapi("BranchKpis");

const kpisRoute = createRoute({
  method: "get",
  path: "/v1/branches/{id}/kpis",
  tags: ["branch"],
  summary: "KPIs of the branch's requests created in [from, to), per local hour or day, and over the range",
  request: { params: BranchParams, query: KpiQuery },
  responses: { 200: { description: "the KPIs", content: json(BranchKpisSchema) }, ...COMMON_ERRORS },
});

const WaitEstimateSchema = z
  .object({
    requestId: z.string(),
    status: z.string().describe("as recorded"),
    stage: z.string().describe("the funnel stage as recorded; queue past the last"),
    sampleSize: z.number().int().describe(`the branch's requests created in the last ${WAIT_WINDOW_DAYS} days that got an advisor`),
    medianSeconds: z.number().nullable().describe(`their median wait from asking to an advisor accepting, in seconds; null when sampleSize < ${MIN_SAMPLE}`),
    p80Seconds: z.number().nullable().describe(`4 in 5 of them waited at most this long, in seconds; null when sampleSize < ${MIN_SAMPLE}`),
    basis: z.string().describe("what the figures are drawn from (and how many of the window went unanswered), or why there is no estimate"),
  })
  .openapi("WaitEstimate");

const waitEstimateRoute = createRoute({
  method: "get",
  path: "/v1/requests/{id}/wait-estimate",
  tags: ["client"],
  summary: "How long the recent requests of the request's branch waited for an advisor",
  request: { params: z.object({ id: idParam("request") }) },
  responses: { 200: { description: "the estimate", content: json(WaitEstimateSchema) }, ...COMMON_ERRORS },
});

/**
 * KPI queries run at once per process. Each holds two connections of the pool the decisions need
 * too, for up to about a second on a year of history; past this bound the next answers 503 with
 * Retry-After at once rather than starving request creation and the journal of connections.
 */
export const KPI_QUERIES_IN_FLIGHT = 2;

export function reportingRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const router = createRouter();
  router.use("/v1/branches/:id/kpis", admitted(createAdmission(KPI_QUERIES_IN_FLIGHT), "too many KPI reports are running right now; retry shortly"));
  return router
    .openapi(kpisRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      const branchId = c.req.valid("param").id;
      requireBranchAccess(principal, branchId);
      const { from, to, bucket } = c.req.valid("query");
      const result = await branchKpis(prisma, { branchId, from: new Date(from), to: new Date(to), bucket });
      if (!result.ok) {
        if (result.reason === "UNKNOWN_BRANCH") throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
        throw new AppError("VALIDATION_FAILED", result.message);
      }
      return c.json(result.kpis, 200);
    })
    .openapi(waitEstimateRoute, async (c) => {
      const estimate = await waitEstimate(prisma, c.req.valid("param").id, new Date(deps.matching.clock.now()));
      // Read like the request itself: someone else's is indistinguishable from none.
      if (!estimate || !mayReadRequest(principalOf(c), estimate.access)) throw new AppError("NOT_FOUND", "no such request");
      const { access: _access, ...visible } = estimate;
      return c.json(visible, 200);
    });
}

/**
 * Staffing advice for managers (own branch) and admins: per local hour of a date, the advisors
 * Erlang C says the observed demand needed for a service target, beside those available, with a
 * surge rule for the hours under target (what each figure means: reporting/staffing.ts). Addressed
 * by branch id like the KPIs, so another branch answers 403 and an unknown one 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { RuleSchema } from "../../incentives/rules/schema.ts";
import { branchStaffing, DEFAULT_STAFFING_TARGET, STAFFING_MAX_DAYS_BACK, STAFFING_MODEL } from "../../reporting/staffing.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { admitted, createAdmission } from "../admission.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, idParam, json } from "../schemas.ts";

/** A calendar date that exists: 2026-02-30 is refused, not rolled over. */
const CalendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD")
  .refine((v) => {
    const at = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === v;
  }, "must be a calendar date");

const StaffingQuery = z.object({
  date: CalendarDate.openapi({
    param: { name: "date", in: "query" },
    description: `the branch's local date: its today or up to ${STAFFING_MAX_DAYS_BACK} days before`,
    example: "2026-03-10",
  }),
  targetPercent: z.coerce
    .number()
    .min(1)
    .max(99)
    .default(DEFAULT_STAFFING_TARGET.percent)
    .openapi({ param: { name: "targetPercent", in: "query" }, description: "share of requests to be accepted within targetSeconds" }),
  targetSeconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(600)
    .default(DEFAULT_STAFFING_TARGET.seconds)
    .openapi({ param: { name: "targetSeconds", in: "query" } }),
});

const nullableNumber = z.number().nullable();
const StaffingHourSchema = z
  .object({
    start: z.string().describe("the local hour's first instant, UTC"),
    localHour: z.number().int().describe("0-23 in the branch's timezone; a repeated hour appears twice"),
    observedSeconds: z.number().describe("seconds of the hour up to now (3600, less for the running hour, 0 for later ones)"),
    arrivals: z.number().int().describe("requests created in the hour"),
    handledInHour: z.number().int().describe("of those, completed: the hour's own handle-time sample"),
    handleSeconds: nullableNumber.describe("mean handle time used (assignedAt to completedAt)"),
    handleBasis: z.enum(["hour", "branch-28-days", "none"]).describe("the hour's own mean (3+ completed), the branch's 28-day mean, or none"),
    erlangs: nullableNumber.describe("arrivals per second x handleSeconds"),
    advisorsNeeded: nullableNumber.describe(
      "the fewest advisors meeting the target by Erlang C; null without a handle time, or in the running hour's first 5 minutes",
    ),
    advisorsAvailable: z.object({
      mean: z.number().describe("available advisor-seconds / observed seconds (under target is judged on this)"),
      max: z.number().int().describe("the most advisors available at one instant"),
    }),
    expectedServiceLevel: nullableNumber.describe("Erlang C's share within the target with floor(mean) advisors; 0 when they cannot keep up"),
    underTarget: z.boolean(),
    surge: z
      .object({
        shortfall: z.number().describe("advisors needed - mean available"),
        multiplier: z.number(),
        rule: RuleSchema,
        reasoning: z.string(),
      })
      .nullable()
      .describe("for an hour under target: a multiplier rule for the branch's incentive rule set, sized needed / available"),
  })
  .openapi("StaffingHour");

const BranchStaffingSchema = z
  .object({
    branchId: z.string(),
    timezone: z.string(),
    date: z.string(),
    target: z.object({ percent: z.number(), seconds: z.number() }),
    model: z.string().describe(STAFFING_MODEL),
    basis: z.string().describe("where the hours' handle times came from"),
    branchHandleSeconds: nullableNumber.describe("the branch's mean handle time over the 28 days ending with the date"),
    hours: z.array(StaffingHourSchema),
    underTargetHours: z.number().int(),
  })
  .openapi("BranchStaffing");

const staffingRoute = createRoute({
  method: "get",
  path: "/v1/branches/{id}/staffing",
  tags: ["branch"],
  summary: "Advisors needed (Erlang C) vs available per local hour of a date, the hours under target and a surge for them",
  request: { params: z.object({ id: idParam("branch") }), query: StaffingQuery },
  responses: { 200: { description: "the advice", content: json(BranchStaffingSchema) }, ...COMMON_ERRORS },
});

/** Staffing reports at once per process: a day's statements are light, but the pool is shared with decisions. */
export const STAFFING_QUERIES_IN_FLIGHT = 4;

export function staffingRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const router = createRouter();
  router.use(
    "/v1/branches/:id/staffing",
    admitted(createAdmission(STAFFING_QUERIES_IN_FLIGHT), "too many staffing reports are running right now; retry shortly"),
  );
  return router.openapi(staffingRoute, async (c) => {
    const principal = requireRole(c, "admin", "manager");
    const branchId = c.req.valid("param").id;
    requireBranchAccess(principal, branchId);
    const { date, targetPercent, targetSeconds } = c.req.valid("query");
    const now = new Date(deps.matching.clock.now());
    const result = await branchStaffing(prisma, { branchId, date, target: { percent: targetPercent, seconds: targetSeconds }, now });
    if (!result.ok) {
      if (result.reason === "UNKNOWN_BRANCH") throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
      throw new AppError("VALIDATION_FAILED", result.message);
    }
    return c.json(result.staffing, 200);
  });
}

/**
 * Settled incentive periods for a branch's manager and admins: the list, newest period first, and
 * one settlement as its JSON report or as the payroll CSV that was recorded when the period closed.
 * Addressed by branch id, so another branch answers 403; a settlement id of another branch is
 * simply not found under this one (404).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { accepts } from "hono/accepts";
import { AppError } from "../../core/errors.ts";
import { branchExists } from "../../directory/branches.ts";
import type { SettlementRecord } from "../../incentives/settlement.ts";
import { getSettlement, listSettlements, summaryOf, type SettlementSummary } from "../../incentives/settlementReports.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { PageQuerySchema, pageQuery, pageSchema, pageView } from "../pagination.ts";
import { COMMON_ERRORS, idParam, json } from "../schemas.ts";

const CSV = "text/csv";

const BranchParams = z.object({ id: idParam("branch") });
const SettlementParams = z.object({
  id: idParam("branch"),
  settlementId: idParam("settlement").openapi({ param: { name: "settlementId", in: "path" } }),
});

const ReportQuery = z.object({
  format: z
    .enum(["json", "csv"])
    .optional()
    .openapi({ param: { name: "format", in: "query" }, description: "csv: the payroll CSV as a download; without it, the Accept header decides" }),
});

const SettlementSummarySchema = z
  .object({
    id: z.string(),
    branchId: z.string(),
    periodKey: z.string().openapi({ example: "2026-W13" }),
    start: z.string().openapi({ description: "first instant of the period (ISO 8601)" }),
    end: z.string().openapi({ description: "end of the period, exclusive (ISO 8601)" }),
    closedAt: z.string(),
    advisors: z.number().int().openapi({ description: "advisors paid in the period" }),
    points: z.number().int().openapi({ description: "points moved to payable in the period" }),
  })
  .openapi("SettlementSummary");

const SettlementLineSchema = z
  .object({
    advisorId: z.string(),
    points: z.number().int().openapi({ description: "points moved to payable: what the advisor is paid for the period" }),
    awards: z.number().int(),
    byRule: z.record(z.string(), z.number().int()).openapi({ description: "points awarded per rule id" }),
    shortfall: z.number().int().optional().openapi({ description: "awarded minus moved, set only when less was moved than awarded" }),
    note: z.string().optional(),
  })
  .openapi("SettlementLine");

const SettlementSchema = SettlementSummarySchema.extend({
  report: z
    .object({
      branchId: z.string(),
      period: z.object({ key: z.string(), start: z.string(), end: z.string() }),
      advisors: z.array(SettlementLineSchema),
      totals: z.object({ points: z.number().int(), awards: z.number().int(), advisors: z.number().int() }),
    })
    .openapi({ description: "the report recorded when the period closed" }),
}).openapi("Settlement");

const routes = {
  list: createRoute({
    method: "get",
    path: "/v1/branches/{id}/settlements",
    tags: ["incentives"],
    summary: "Settled incentive periods of the branch, newest first",
    request: { params: BranchParams, query: PageQuerySchema },
    responses: { 200: { description: "a page", content: json(pageSchema(SettlementSummarySchema, "SettlementPage")) }, ...COMMON_ERRORS },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/branches/{id}/settlements/{settlementId}",
    tags: ["incentives"],
    summary: "One settlement: its JSON report, or with ?format=csv (or Accept: text/csv) the payroll CSV as a download",
    request: { params: SettlementParams, query: ReportQuery },
    responses: {
      200: {
        description: "the report, or the CSV (advisor_id,points,awards; CRLF lines) with Content-Disposition: attachment",
        content: { ...json(SettlementSchema), [CSV]: { schema: z.string() } },
      },
      ...COMMON_ERRORS,
    },
  }),
};

const summaryView = (s: SettlementSummary) => ({
  ...s,
  start: s.start.toISOString(),
  end: s.end.toISOString(),
  closedAt: s.closedAt.toISOString(),
});

/** The download's name: settlement-<branch>-<period>.csv (ids and period keys are filename-safe). */
const csvFilename = (s: SettlementRecord) => `settlement-${s.branchId}-${s.report.period.key}.csv`.replace(/[^A-Za-z0-9_.-]/g, "_");

export function settlementRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;

  return createRouter()
    .openapi(routes.list, async (c) => {
      const principal = requireRole(c, "manager", "admin");
      const { id } = c.req.valid("param");
      requireBranchAccess(principal, id);
      if (!(await branchExists(prisma, id))) throw new AppError("NOT_FOUND", `branch ${id} not found`);
      const page = await listSettlements(prisma, id, pageQuery(c.req.valid("query")));
      return c.json(pageView(page, summaryView), 200);
    })
    .openapi(routes.get, async (c) => {
      const principal = requireRole(c, "manager", "admin");
      const { id, settlementId } = c.req.valid("param");
      requireBranchAccess(principal, id);
      const settlement = await getSettlement(prisma, id, settlementId);
      if (!settlement) throw new AppError("NOT_FOUND", `branch ${id} has no settlement ${settlementId}`);
      const { format } = c.req.valid("query");
      const wanted = format ?? accepts(c, { header: "Accept", supports: ["application/json", CSV], default: "application/json" });
      if (wanted === "csv" || wanted === CSV) {
        return c.body(settlement.csv, 200, {
          "content-type": `${CSV}; charset=utf-8`,
          "content-disposition": `attachment; filename="${csvFilename(settlement)}"`,
        }) as never;
      }
      return c.json({ ...summaryView(summaryOf(settlement)), report: settlement.report }, 200);
    });
}

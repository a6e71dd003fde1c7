/**
 * Incentive rules for branch managers (draft, simulate, activate, roll back), the branch leaderboard,
 * and an advisor's own earnings; the settled periods (settlements.ts) are mounted with them.
 */
import { branchExists } from "../../directory/branches.ts";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ZodError } from "zod";
import { AppError } from "../../core/errors.ts";
import { earnings, leaderboard } from "../../incentives/earnings.ts";
import { activateRuleSet, createDraft, getRuleSet, listRuleSets, type RuleSetVersion } from "../../incentives/ruleSets.ts";
import { parseRuleSet, RuleSetSchema, type RuleSetError } from "../../incentives/rules/schema.ts";
import { simulateRuleSet } from "../../incentives/simulation.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { errorResponse, validationHook } from "../errors.ts";
import { settlementRoutes } from "./settlements.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, idParam, Instant, json } from "../schemas.ts";

const BranchParams = z.object({ id: idParam("branch") });
const VersionParams = z.object({
  id: idParam("branch"),
  version: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .openapi({ param: { name: "version", in: "path" } }),
});
const RuleSetVersionSchema = z
  .object({
    branchId: z.string(),
    version: z.number(),
    status: z.string(),
    createdBy: z.string(),
    createdAt: z.string(),
    activatedAt: z.string().nullable(),
    ruleSet: RuleSetSchema,
  })
  .openapi("IncentiveRuleSetVersion");
const SimulateBody = z
  .object({ from: Instant, to: Instant })
  .strict()
  .refine((b) => new Date(b.from) < new Date(b.to), { message: "from must be before to", path: ["to"] });

const routes = {
  list: createRoute({
    method: "get",
    path: "/v1/branches/{id}/incentive-rules",
    tags: ["incentives"],
    summary: "Rule set versions, newest first",
    request: { params: BranchParams },
    responses: { 200: { description: "versions", content: json(z.array(RuleSetVersionSchema)) }, ...COMMON_ERRORS },
  }),
  create: createRoute({
    method: "post",
    path: "/v1/branches/{id}/incentive-rules",
    tags: ["incentives"],
    summary: "Create a draft rule set",
    request: { params: BranchParams, body: { required: true, content: json(RuleSetSchema) } },
    responses: { 201: { description: "the draft", content: json(RuleSetVersionSchema) }, ...COMMON_ERRORS },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/branches/{id}/incentive-rules/{version}",
    tags: ["incentives"],
    summary: "One version",
    request: { params: VersionParams },
    responses: { 200: { description: "the version", content: json(RuleSetVersionSchema) }, ...COMMON_ERRORS },
  }),
  simulate: createRoute({
    method: "post",
    path: "/v1/branches/{id}/incentive-rules/{version}/simulate",
    tags: ["incentives"],
    summary: "Replay recorded events through this version, writing nothing",
    request: { params: VersionParams, body: { required: true, content: json(SimulateBody) } },
    responses: {
      200: { description: "totals, per advisor, budget used, and the difference from the active version", content: json(z.unknown()) },
      ...COMMON_ERRORS,
    },
  }),
  activate: createRoute({
    method: "post",
    path: "/v1/branches/{id}/incentive-rules/{version}/activate",
    tags: ["incentives"],
    summary: "Activate this version (an earlier one: a rollback); the previous active version retires",
    request: { params: VersionParams },
    responses: {
      200: { description: "activated", content: json(z.object({ version: z.number(), retired: z.number().nullable() })) },
      ...COMMON_ERRORS,
      ...CONFLICT_RESPONSE,
    },
  }),
  leaderboard: createRoute({
    method: "get",
    path: "/v1/branches/{id}/leaderboard",
    tags: ["incentives"],
    summary: "Advisors by points in the open period",
    request: { params: BranchParams },
    responses: {
      200: {
        description: "ranked advisors",
        content: json(z.array(z.object({ rank: z.number(), advisorId: z.string(), name: z.string(), points: z.number() }))),
      },
      ...COMMON_ERRORS,
    },
  }),
  earnings: createRoute({
    method: "get",
    path: "/v1/advisors/me/earnings",
    tags: ["advisor"],
    summary: "My points, payable balance, recent awards with the rule that earned each, and my rank",
    responses: { 200: { description: "earnings", content: json(z.unknown()) }, ...COMMON_ERRORS },
  }),
};

/**
 * The rule set body's validation: a refused document answers with parseRuleSet's errors, which name
 * the rule (by id) and the field, and report shape and cross-field errors together.
 */
function ruleSetHook(result: { success: boolean; error?: ZodError; data?: unknown; target?: string }, c: Context): Response | undefined {
  if (result.success || result.target !== "json") return validationHook(result, c);
  const parsed = parseRuleSet(result.data);
  // Never ok here (the same schema refused it); the union keeps the types honest.
  const errors = parsed.ok ? [] : parsed.errors.map((error) => ({ path: documentPath(result.data, error), ...error }));
  return errorResponse(c, "VALIDATION_FAILED", "the rule set is invalid", errors);
}

/**
 * Where an error sits in the document as sent ("rules.0.id", "budget"), the `path` every other
 * route's details carry, next to the rule id and field a person reads.
 */
function documentPath(document: unknown, error: RuleSetError): string {
  if (error.ruleId === null) return error.field;
  const rules = (document as { rules?: unknown } | null)?.rules;
  const index = error.ruleId.startsWith("#")
    ? Number(error.ruleId.slice(1))
    : Array.isArray(rules)
      ? rules.findIndex((rule) => (rule as { id?: unknown } | null)?.id === error.ruleId)
      : -1;
  return ["rules", String(index), error.field].filter((part) => part !== "").join(".");
}

const view = (v: RuleSetVersion) => ({
  branchId: v.branchId,
  version: v.version,
  status: v.status,
  createdBy: v.createdBy,
  createdAt: v.createdAt.toISOString(),
  activatedAt: v.activatedAt?.toISOString() ?? null,
  ruleSet: v.ruleSet,
});

export function incentiveRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const managerOf = (c: Parameters<typeof requireRole>[0], branchId: string) => {
    const principal = requireRole(c, "manager", "admin");
    requireBranchAccess(principal, branchId);
    return principal;
  };
  const versionOrThrow = async (branchId: string, version: number) => {
    const found = await getRuleSet(prisma, branchId, version);
    if (!found) throw new AppError("NOT_FOUND", `branch ${branchId} has no rule set version ${version}`);
    return found;
  };

  return createRouter()
    .openapi(routes.list, async (c) => {
      const { id } = c.req.valid("param");
      managerOf(c, id);
      return c.json((await listRuleSets(prisma, id)).map(view), 200);
    })
    .openapi(
      routes.create,
      async (c) => {
        const { id } = c.req.valid("param");
        const principal = managerOf(c, id);
        if (!(await branchExists(prisma, id))) throw new AppError("NOT_FOUND", "no such branch");
        return c.json(view(await createDraft(prisma, id, c.req.valid("json"), principal.sub)), 201);
      },
      ruleSetHook as never,
    )
    .openapi(routes.get, async (c) => {
      const { id, version } = c.req.valid("param");
      managerOf(c, id);
      return c.json(view(await versionOrThrow(id, version)), 200);
    })
    .openapi(routes.simulate, async (c) => {
      const { id, version } = c.req.valid("param");
      managerOf(c, id);
      const target = await versionOrThrow(id, version);
      const { from, to } = c.req.valid("json");
      return c.json(await simulateRuleSet(prisma, id, target.ruleSet, target.version, new Date(from), new Date(to)), 200);
    })
    .openapi(routes.activate, async (c) => {
      const { id, version } = c.req.valid("param");
      const principal = managerOf(c, id);
      const outcome = await activateRuleSet(prisma, id, version, principal.sub, new Date());
      if (!outcome.ok) throw new AppError("NOT_FOUND", `branch ${id} has no rule set version ${version}`);
      return c.json({ version: outcome.activated.version, retired: outcome.retired }, 200);
    })
    .openapi(routes.leaderboard, async (c) => {
      const { id } = c.req.valid("param");
      managerOf(c, id);
      return c.json(await leaderboard(prisma, id), 200);
    })
    .openapi(routes.earnings, async (c) => {
      const principal = requireRole(c, "advisor");
      return c.json(await earnings(prisma, principal.sub, principal.branchId!), 200);
    })
    .route("/", settlementRoutes(deps));
}

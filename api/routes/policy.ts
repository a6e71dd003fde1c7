/**
 * Branch operations for managers (own branch) and admins: the dispatch policy, edited with
 * optimistic concurrency, and the branch's live queue. These routes are addressed by branch id, so
 * another branch answers 403: the caller already knows the id they sent.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { branchExists } from "../../directory/branches.ts";
import { shownLicenceStatus } from "../../directory/licenceStatus.ts";
import { getBranchPolicy, putBranchPolicy, type BranchPolicy } from "../../directory/policies.ts";
import { branchQueue } from "../../directory/queue.ts";
import { DispatchPolicySchema, STAGE_POOLS } from "../../matching/domain/policy.ts";
import { LICENCE_KINDS } from "../../matching/domain/types.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, idParam, json } from "../schemas.ts";

const BranchParams = z.object({ id: idParam("branch") });

/** The policy itself plus the version the editor started from. */
const PutPolicyBody = DispatchPolicySchema.safeExtend({
  /** 0: only if the branch has no stored policy yet; n: only if the stored version is still n. */
  // Below the column's maximum, so the next version still fits.
  expectedVersion: z.number().int().min(0).max(1_000_000_000).optional(),
}).openapi("PutDispatchPolicy");

const BranchPolicySchema = z
  .object({
    branchId: z.string(),
    version: z.number().int(),
    updatedAt: z.string().nullable(),
    updatedBy: z.string().nullable(),
    policy: DispatchPolicySchema,
  })
  .openapi("BranchDispatchPolicy");

const QueueQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(200)
    .openapi({ param: { name: "limit", in: "query" } }),
});

const QueueSchema = z
  .object({
    waiting: z.array(
      z.object({
        requestId: z.string(),
        clientId: z.string(),
        requiredLicence: z.enum(LICENCE_KINDS),
        priority: z.number().int(),
        createdAt: z.string(),
        stage: z.enum(STAGE_POOLS),
        waitingSeconds: z.number().int(),
      }),
    ),
    availableAdvisors: z.array(
      z.object({
        advisorId: z.string(),
        name: z.string(),
        /** Assignments in progress right now. */
        active: z.number().int(),
        maxConcurrent: z.number().int(),
        licences: z.array(
          z.object({ id: z.string(), kind: z.enum(LICENCE_KINDS), number: z.string(), validFrom: z.string(), validUntil: z.string(), status: z.string() }),
        ),
      }),
    ),
  })
  .openapi("BranchQueue");

export type BranchPolicyView = z.infer<typeof BranchPolicySchema>;

const getPolicyRoute = createRoute({
  method: "get",
  path: "/v1/branches/{id}/dispatch-policy",
  tags: ["branch"],
  summary: "The branch's dispatch policy (version 0: the default, never stored)",
  request: { params: BranchParams },
  responses: { 200: { description: "the policy", content: json(BranchPolicySchema) }, ...COMMON_ERRORS },
});

const putPolicyRoute = createRoute({
  method: "put",
  path: "/v1/branches/{id}/dispatch-policy",
  tags: ["branch"],
  summary: "Replace the branch's dispatch policy; 409 when expectedVersion is stale",
  request: { params: BranchParams, body: { required: true, content: json(PutPolicyBody) } },
  responses: { 200: { description: "stored as a new version", content: json(BranchPolicySchema) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const queueRoute = createRoute({
  method: "get",
  path: "/v1/branches/{id}/queue",
  tags: ["branch"],
  summary: "Live requests of the branch (priority, then age) and its available advisors",
  request: { params: BranchParams, query: QueueQuery },
  responses: { 200: { description: "the queue", content: json(QueueSchema) }, ...COMMON_ERRORS },
});

function policyView(p: BranchPolicy): BranchPolicyView {
  return { branchId: p.branchId, version: p.version, updatedAt: p.updatedAt?.toISOString() ?? null, updatedBy: p.updatedBy, policy: p.policy };
}

export function policyRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const { store } = deps.matching;

  return createRouter()
    .openapi(getPolicyRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      const branchId = c.req.valid("param").id;
      requireBranchAccess(principal, branchId);
      const policy = await getBranchPolicy(prisma, branchId);
      if (!policy) throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
      return c.json(policyView(policy), 200);
    })
    .openapi(putPolicyRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      const branchId = c.req.valid("param").id;
      requireBranchAccess(principal, branchId);
      const { expectedVersion, ...policy } = c.req.valid("json");
      const result = await putBranchPolicy(prisma, {
        branchId,
        policy,
        updatedBy: principal.sub,
        ...(expectedVersion === undefined ? {} : { expectedVersion }),
      });
      if (!result.ok) {
        if (result.reason === "UNKNOWN_BRANCH") throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
        throw new AppError("CONFLICT", `the policy is at version ${result.currentVersion}, not ${expectedVersion}; re-read it and apply your change again`, {
          currentVersion: result.currentVersion,
        });
      }
      deps.logger.info({ branchId, version: result.policy.version, by: principal.sub }, "dispatch policy changed");
      return c.json(policyView(result.policy), 200);
    })
    .openapi(queueRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      const branchId = c.req.valid("param").id;
      requireBranchAccess(principal, branchId);
      if (!(await branchExists(prisma, branchId))) throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
      const queue = await branchQueue(prisma, store, branchId, { limit: c.req.valid("query").limit });
      const now = new Date(deps.matching.clock.now());
      return c.json(
        {
          waiting: queue.waiting.map((w) => ({ ...w, createdAt: w.createdAt.toISOString() })),
          availableAdvisors: queue.availableAdvisors.map((a) => ({
            advisorId: a.advisorId,
            name: a.name,
            active: a.active,
            maxConcurrent: a.maxConcurrent,
            licences: a.licences.map((l) => ({
              id: l.id,
              kind: l.kind,
              number: l.number,
              validFrom: l.validFrom.toISOString(),
              validUntil: l.validUntil.toISOString(),
              status: shownLicenceStatus(l, now),
            })),
          })),
        },
        200,
      );
    });
}

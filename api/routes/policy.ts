/**
 * Branch operations for managers (own branch) and admins: the dispatch policy, edited with
 * optimistic concurrency, and the branch's live queue. These routes are addressed by branch id, so
 * another branch answers 403: the caller already knows the id they sent.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ZodError } from "zod";
import { AppError } from "../../core/errors.ts";
import { branchExists } from "../../directory/branches.ts";
import { shownLicenceStatus } from "../../directory/licenceStatus.ts";
import { getBranchPolicy, putBranchPolicy, type BranchPolicy } from "../../directory/policies.ts";
import { branchQueue } from "../../directory/queue.ts";
import { DispatchPolicySchema, STAGE_POOLS, type DispatchPolicy } from "../../matching/domain/policy.ts";
import { LICENCE_KINDS } from "../../matching/domain/types.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { validationHook } from "../errors.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, idParam, json } from "../schemas.ts";

const BranchParams = z.object({ id: idParam("branch") });

/** 0: only if the branch has no stored policy yet; n: only if the stored version is still n. */
// Below the column's maximum, so the next version still fits.
const ExpectedVersion = z.number().int().min(0).max(1_000_000_000);

/** The flat form: the policy's own fields plus the version the editor started from. */
const FlatPolicyBody = DispatchPolicySchema.safeExtend({ expectedVersion: ExpectedVersion.optional() }).openapi("PutDispatchPolicyFlat");

/**
 * The envelope form: exactly what GET answers, sent back after an edit. updatedAt and updatedBy are
 * the server's to set and are ignored; branchId, when sent, must name the branch in the path.
 */
const EnvelopePolicyBody = z
  .object({
    branchId: z.string().optional(),
    version: ExpectedVersion.optional().openapi({ description: "the version this edit started from; stands in for expectedVersion when that is absent" }),
    updatedAt: z.string().nullable().optional(),
    updatedBy: z.string().nullable().optional(),
    policy: DispatchPolicySchema,
    expectedVersion: ExpectedVersion.optional(),
  })
  .strict()
  .openapi("PutDispatchPolicyEnvelope");

const PutPolicyBody = z.union([EnvelopePolicyBody, FlatPolicyBody]).openapi("PutDispatchPolicy", {
  description:
    "Either the GET answer sent back (`{branchId, version, updatedAt, updatedBy, policy}`, optionally with `expectedVersion`) or the policy's " +
    "fields flat with an optional `expectedVersion`. In the envelope, `version` stands in for `expectedVersion` when that is absent, so a " +
    "GET-edit-PUT round trip is a conditional write that answers 409 if someone stored a newer version meanwhile; when both are sent they " +
    "must agree. Without either (flat form without expectedVersion) the write is unconditional. A body `branchId` other than the path's is a 400.",
});
type PutPolicyInput = z.infer<typeof PutPolicyBody>;

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
  summary: "Replace the branch's dispatch policy; 409 when expectedVersion (or the envelope's version) is stale",
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

/**
 * Validation errors name the fields of the form the caller meant: a body with a `policy` member is
 * the envelope, any other the flat form (the union alone answers a mistyped field with "Invalid input").
 */
function putPolicyHook(result: { success: boolean; error?: ZodError; data?: unknown; target?: string }, c: Context): Response | undefined {
  if (result.success || result.target !== "json") return validationHook(result, c);
  const body = result.data;
  const meant = typeof body === "object" && body !== null && Object.hasOwn(body, "policy") ? EnvelopePolicyBody : FlatPolicyBody;
  const parsed = meant.safeParse(body);
  return validationHook(parsed.success ? result : { success: false, error: parsed.error, target: result.target }, c);
}

/** What to store, from either form; throws a 400 for an envelope that contradicts the path or itself. */
function policyWrite(body: PutPolicyInput, branchId: string): { policy: DispatchPolicy; expectedVersion?: number } {
  if (!("policy" in body)) {
    const { expectedVersion, ...policy } = body;
    return { policy, ...(expectedVersion === undefined ? {} : { expectedVersion }) };
  }
  if (body.branchId !== undefined && body.branchId !== branchId) {
    throw new AppError("VALIDATION_FAILED", `the body is the policy of ${body.branchId}, but the path names ${branchId}`, [
      { path: "branchId", message: "must be the branch in the path" },
    ]);
  }
  if (body.expectedVersion !== undefined && body.version !== undefined && body.expectedVersion !== body.version) {
    throw new AppError("VALIDATION_FAILED", `expectedVersion ${body.expectedVersion} and version ${body.version} disagree; send one, or both equal`, [
      { path: "expectedVersion", message: "must equal version when both are sent" },
    ]);
  }
  const expectedVersion = body.expectedVersion ?? body.version;
  return { policy: body.policy, ...(expectedVersion === undefined ? {} : { expectedVersion }) };
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
    .openapi(
      putPolicyRoute,
      async (c) => {
        const principal = requireRole(c, "admin", "manager");
        const branchId = c.req.valid("param").id;
        requireBranchAccess(principal, branchId);
        const write = policyWrite(c.req.valid("json"), branchId);
        const result = await putBranchPolicy(prisma, { branchId, updatedBy: principal.sub, ...write });
        if (!result.ok) {
          if (result.reason === "UNKNOWN_BRANCH") throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
          throw new AppError(
            "CONFLICT",
            `the policy is at version ${result.currentVersion}, not ${write.expectedVersion}; re-read it and apply your change again`,
            {
              currentVersion: result.currentVersion,
            },
          );
        }
        deps.matching.engine.policyChanged(branchId);
        deps.logger.info({ branchId, version: result.policy.version, by: principal.sub }, "dispatch policy changed");
        return c.json(policyView(result.policy), 200);
      },
      putPolicyHook as never,
    )
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

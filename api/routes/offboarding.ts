/**
 * `POST /v1/advisors/{id}/offboard`: the advisor leaves the firm, which keeps their clients and
 * open work (compliance/offboarding/offboard.ts). For the manager of the advisor's branch and admins;
 * a manager of another branch cannot tell the advisor exists. A repeat is harmless and finishes any
 * step an earlier call could not.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { offboardAdvisor } from "../../compliance/offboarding/offboard.ts";
import { findAdvisor } from "../../directory/advisors.ts";
import { canSeeBranch, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { SESSION_REVOKED } from "../realtime/hub.ts";
import { COMMON_ERRORS, idParam, text, json } from "../schemas.ts";

const OffboardBody = z
  .object({ reason: text(1, 500).optional() })
  .strict()
  .openapi("OffboardRequest");
const OffboardReportSchema = z
  .object({
    advisorId: z.string(),
    branchId: z.string(),
    offboardedAt: z.string(),
    changed: z.boolean().openapi({ description: "false when the advisor was already offboarded (only unfinished steps ran)" }),
    connectionsClosed: z.array(z.string()),
    dedicationsCleared: z.array(z.string()).openapi({ description: "clients now served by the branch pool" }),
    offersWithdrawn: z.array(z.string()),
    requestsRedispatched: z.array(z.string()),
  })
  .openapi("OffboardReport");

const offboardRoute = createRoute({
  method: "post",
  path: "/v1/advisors/{id}/offboard",
  tags: ["directory"],
  summary: "Offboard an advisor: close their connections, withdraw their offers, re-dispatch their requests, clear their dedications",
  request: { params: z.object({ id: idParam("advisor") }), body: { required: false, content: json(OffboardBody) } },
  responses: { 200: { description: "offboarded; every step is in the audit", content: json(OffboardReportSchema) }, ...COMMON_ERRORS },
});

export function offboardingRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  return createRouter().openapi(offboardRoute, async (c) => {
    const principal = requireRole(c, "manager", "admin");
    const advisorId = c.req.valid("param").id;
    const advisor = await findAdvisor(prisma, advisorId);
    if (!advisor || !canSeeBranch(principal, advisor.branchId)) throw new AppError("NOT_FOUND", `advisor ${advisorId} not found`);
    const body = c.req.valid("json") ?? {};
    const outcome = await offboardAdvisor(
      {
        prisma,
        engine: deps.matching.engine,
        clock: deps.matching.clock,
        revokeSessions: async (id) => {
          deps.standing?.forget([id]);
          await deps.fanout?.publish({ to: [id], message: { type: SESSION_REVOKED, reason: "advisor_offboarded" } });
        },
      },
      { advisorId, actor: principal.sub, reason: body.reason ?? null },
    );
    if (!outcome.ok) throw new AppError("NOT_FOUND", `advisor ${advisorId} not found`);
    return c.json(outcome.report, 200);
  });
}

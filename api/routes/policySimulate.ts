/**
 * The policy what-if: POST /v1/branches/{id}/dispatch-policy/simulate replays the branch's requests
 * of a window under a candidate policy and under the current one, and answers both KPI sets side by
 * side (the replay: simulation/replay.ts, handed in as AppDeps.policyReplay; its contract:
 * reporting/policyReplay.ts). Who may ask: as for PUT dispatch-policy, the branch's manager and admins.
 *
 * A replay runs two simulated windows on embedded records and takes seconds of CPU, so one runs at a
 * time per process (the next answers 503 with Retry-After), within REPLAY_LIMITS (a longer window or
 * more requests is cut, and the answer says so) and a wall-clock timeout (503).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { DispatchPolicySchema } from "../../matching/domain/policy.ts";
import { REPLAY_LIMITS } from "../../reporting/policyReplay.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createAdmission } from "../admission.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, idParam, Instant, json } from "../schemas.ts";
import { KpisSchema } from "./reporting.ts";

/** Replays at once per process: each holds a CPU core for seconds. */
export const REPLAYS_IN_FLIGHT = 1;

const BranchParams = z.object({ id: idParam("branch") });

const SimulateBody = z
  .object({
    policy: DispatchPolicySchema,
    from: Instant.openapi({ description: "inclusive, on the requests' createdAt" }),
    to: Instant.openapi({ description: `exclusive; at most ${REPLAY_LIMITS.maxDays} days after from, or the window is cut` }),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1)
      .openapi({ description: "the behaviour draws' seed; the same seed and record give the same answer" }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (!(Date.parse(b.to) > Date.parse(b.from))) ctx.addIssue({ code: "custom", path: ["to"], message: "to must be after from" });
  })
  .openapi("SimulateDispatchPolicy");

const Duration = z.object({ kind: z.literal("lognormal"), medianSeconds: z.number(), sigma: z.number() });
const Fitted = z.object({
  source: z.object({ offers: z.enum(["own", "pooled", "default"]), handle: z.enum(["own", "pooled", "default"]) }),
  offers: z.number().int(),
  handled: z.number().int(),
  acceptRate: z.number().describe("accepted / answered offers"),
  acceptProbability: z.number().describe("accepted / resolved offers (timeouts included): what the replay draws"),
  declineShare: z.number().describe("of the offers not accepted, the share declined (the rest time out)"),
  thinkTime: Duration,
  handleTime: Duration,
});

const SimulationSchema = z
  .object({
    branchId: z.string(),
    window: z.object({ from: z.string(), to: z.string(), requests: z.number().int() }),
    cutShort: z.boolean(),
    cutReason: z.string().optional(),
    seed: z.number().int(),
    current: z.object({ version: z.number().int(), policy: DispatchPolicySchema, kpis: KpisSchema }),
    candidate: z.object({ policy: DispatchPolicySchema, kpis: KpisSchema }),
    fitted: z.object({
      from: z.string(),
      to: z.string(),
      pooled: Fitted,
      advisors: z.array(Fitted.extend({ advisorId: z.string(), availableSeconds: z.number().int() })),
    }),
    assumptions: z.array(z.string()),
  })
  .openapi("DispatchPolicySimulation");

const simulateRoute = createRoute({
  method: "post",
  path: "/v1/branches/{id}/dispatch-policy/simulate",
  tags: ["branch"],
  summary: "Replay the branch's requests of [from, to) under a candidate policy and the current one, with advisor behaviour fitted from the record",
  description:
    `Bounded: at most ${REPLAY_LIMITS.maxDays} days and ${REPLAY_LIMITS.maxRequests} requests (a longer window is cut to its first part that fits, ` +
    `cutShort true with the reason), ${REPLAY_LIMITS.timeoutMs / 1000} s of wall clock (503), one replay at a time per process (503 with Retry-After).`,
  request: { params: BranchParams, body: { required: true, content: json(SimulateBody) } },
  responses: { 200: { description: "both KPI sets side by side", content: json(SimulationSchema) }, ...COMMON_ERRORS },
});

export function policySimulateRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  // Taken inside the handler, after validation and authorization: a malformed or forbidden call is
  // answered as such whether or not a replay is running.
  const admission = createAdmission(REPLAYS_IN_FLIGHT);
  return createRouter().openapi(simulateRoute, async (c) => {
    const principal = requireRole(c, "admin", "manager");
    const branchId = c.req.valid("param").id;
    requireBranchAccess(principal, branchId);
    const replay = deps.policyReplay;
    if (!replay) throw new AppError("UNAVAILABLE", "policy replays are not available on this server");
    const body = c.req.valid("json");
    if (!admission.tryEnter()) throw new AppError("UNAVAILABLE", "a policy replay is running; retry shortly");
    let result: Awaited<ReturnType<typeof replay>>;
    try {
      result = await replay(prisma, { branchId, candidate: body.policy, from: new Date(body.from), to: new Date(body.to), seed: body.seed });
    } finally {
      admission.leave();
    }
    if (!result.ok) {
      if (result.reason === "UNKNOWN_BRANCH") throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
      throw new AppError("UNAVAILABLE", result.message);
    }
    return c.json(result.answer, 200);
  });
}

/** Liveness and readiness, unauthenticated by design: load balancers and orchestrators call them. */
import { createRoute, z } from "@hono/zod-openapi";
import { checkReadiness } from "../../platform/backends.ts";
import { createRouter, type AppDeps } from "../context.ts";

const LivenessSchema = z.object({ status: z.literal("ok") }).openapi("Liveness");
const ReadinessSchema = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    checks: z.object({ database: z.string(), redis: z.string(), migrations: z.string() }),
  })
  .openapi("Readiness");

const healthz = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["health"],
  summary: "Liveness: the process is serving",
  responses: { 200: { description: "alive", content: { "application/json": { schema: LivenessSchema } } } },
});

const readyz = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["health"],
  summary: "Readiness: database and Redis reachable, migrations applied",
  responses: {
    200: { description: "ready", content: { "application/json": { schema: ReadinessSchema } } },
    503: { description: "not ready", content: { "application/json": { schema: ReadinessSchema } } },
  },
});

export function healthRoutes(deps: AppDeps) {
  return createRouter()
    .openapi(healthz, (c) => c.json({ status: "ok" as const }, 200))
    .openapi(readyz, async (c) => {
      const report = await checkReadiness(deps.backends, deps.logger);
      return report.ready
        ? c.json({ status: "ready" as const, checks: report.checks }, 200)
        : c.json({ status: "not_ready" as const, checks: report.checks }, 503);
    });
}

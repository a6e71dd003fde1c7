/** `GET /metrics`: Prometheus text exposition, for an admin token (scrapers send it as a bearer token). */
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS } from "../schemas.ts";

const route = createRoute({
  method: "get",
  path: "/metrics",
  tags: ["operations"],
  summary: "Prometheus metrics (admin)",
  responses: { 200: { description: "text exposition format 0.0.4", content: { "text/plain": { schema: z.string() } } }, ...COMMON_ERRORS },
});

export function metricsRoutes(deps: AppDeps) {
  return createRouter().openapi(route, async (c) => {
    requireRole(c, "admin");
    c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return c.body(await deps.metrics.render(), 200) as never;
  });
}

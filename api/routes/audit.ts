/**
 * The tamper-evident audit record for compliance: verify every hash chain, and export the audit
 * trail between two instants as NDJSON (one AuditEvent per line, in seq order, streamed in batches).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { auditEventsAfter } from "../../compliance/audit/exportRows.ts";
import { verifyAudit } from "../../compliance/audit/verify.ts";
import { requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, Instant } from "../schemas.ts";

const EXPORT_BATCH = 1_000;

const ExportQuery = z
  .object({ from: Instant, to: Instant })
  .refine((q) => new Date(q.from) < new Date(q.to), { message: "from must be before to", path: ["to"] });

const routes = {
  verify: createRoute({
    method: "get",
    path: "/v1/audit/verify",
    tags: ["audit"],
    summary: "Recompute every audit, seal and message hash chain; names the first broken link",
    responses: { 200: { description: "the verification result", content: { "application/json": { schema: z.unknown() } } }, ...COMMON_ERRORS },
  }),
  export: createRoute({
    method: "get",
    path: "/v1/audit/export",
    tags: ["audit"],
    summary: "Audit entries with from <= at < to, as NDJSON in seq order",
    request: { query: ExportQuery },
    responses: { 200: { description: "one JSON audit entry per line", content: { "application/x-ndjson": { schema: z.string() } } }, ...COMMON_ERRORS },
  }),
};

export function auditRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  return createRouter()
    .openapi(routes.verify, async (c) => {
      requireRole(c, "compliance", "admin");
      return c.json(await verifyAudit(prisma), 200);
    })
    .openapi(routes.export, async (c) => {
      requireRole(c, "compliance");
      const { from, to } = c.req.valid("query");
      const at = { gte: new Date(from), lt: new Date(to) };
      const encoder = new TextEncoder();
      let after = -1n;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const rows = await auditEventsAfter(prisma, { after, from: at.gte, to: at.lt, take: EXPORT_BATCH });
            if (!rows.length) return controller.close();
            after = rows[rows.length - 1]!.seq;
            const lines = rows.map((r) =>
              JSON.stringify({
                seq: Number(r.seq),
                id: r.id,
                stream: r.stream,
                streamSeq: r.streamSeq,
                at: r.at.toISOString(),
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                data: r.data,
                prevHash: r.prevHash,
                hash: r.hash,
              }),
            );
            controller.enqueue(encoder.encode(`${lines.join("\n")}\n`));
          } catch (error) {
            controller.error(error);
          }
        },
      });
      return c.body(body, 200, { "content-type": "application/x-ndjson; charset=utf-8" }) as never;
    });
}

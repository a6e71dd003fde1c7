/**
 * `POST /v1/dev/token`: mints a token for local use and tests; `GET /v1/dev/users`: whom to mint it
 * for (the console's sign-in list). Registered only when DEV_AUTH is on,
 * which is refused in production (core/config.ts); otherwise the path does not exist at all. Dev
 * tokens are short-lived (an hour unless asked for longer, never past JWT_MAX_TTL_SECONDS), and a
 * branch claim must match the directory (directory/branchClaim.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { checkBranchClaim } from "../../directory/branchClaim.ts";
import { listDevUsers } from "../../directory/devUsers.ts";
import { issueToken, ROLES } from "../auth/principal.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { errorResponse } from "../errors.ts";

const Subject = z.string().regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 printable ASCII characters without spaces");
/** A dev token's lifetime unless the caller asks for another (a load test longer than an hour does). */
export const DEV_TOKEN_TTL_SECONDS = 3600;

const DevTokenBody = z
  .object({
    sub: Subject,
    role: z.enum(ROLES),
    branchId: Subject.optional(),
    /** Seconds until the token expires; at most JWT_MAX_TTL_SECONDS (checked in the handler, which knows it). */
    ttlSeconds: z.number().int().min(1).optional(),
  })
  .openapi("DevTokenRequest");

const route = createRoute({
  method: "post",
  path: "/v1/dev/token",
  tags: ["dev"],
  summary: "Mint a token (DEV_AUTH only)",
  request: { body: { required: true, content: { "application/json": { schema: DevTokenBody } } } },
  responses: {
    200: { description: "token", content: { "application/json": { schema: z.object({ token: z.string() }) } } },
    400: { description: "invalid claims" },
  },
});

/** Reachable without a token, like the token route: signing in is what they are for. */
export const DEV_PUBLIC_PATHS: ReadonlySet<string> = new Set(["/v1/dev/token", "/v1/dev/users"]);

const DevUserSchema = z.object({ id: z.string(), role: z.enum(ROLES), branchId: z.string().nullable(), name: z.string() }).openapi("DevUser");

const usersRoute = createRoute({
  method: "get",
  path: "/v1/dev/users",
  tags: ["dev"],
  summary: "People to sign in as: a manager per branch, some advisors and clients, compliance and admin (DEV_AUTH only)",
  responses: {
    200: { description: "the list", content: { "application/json": { schema: z.object({ items: z.array(DevUserSchema) }).openapi("DevUsers") } } },
  },
});

export function devTokenRoutes(deps: AppDeps) {
  return createRouter()
    .openapi(usersRoute, async (c) => c.json({ items: await listDevUsers(deps.backends.database.prisma) }, 200))
    .openapi(route, async (c) => {
      const body = c.req.valid("json");
      if ((body.role === "advisor" || body.role === "manager") && !body.branchId) {
        return errorResponse(c, "VALIDATION_FAILED", `${body.role} tokens need a branchId`, [{ path: "branchId", message: "required for this role" }]) as never;
      }
      if (body.branchId) {
        const claim = await checkBranchClaim(deps.backends.database.prisma, { role: body.role, sub: body.sub, branchId: body.branchId });
        if (!claim.ok) {
          const message =
            claim.reason === "NO_SUCH_BRANCH"
              ? `branch ${body.branchId} is not in the directory`
              : `advisor ${body.sub} belongs to branch ${claim.branchId}, not ${body.branchId}`;
          return errorResponse(c, "VALIDATION_FAILED", message, [{ path: "branchId", message }]) as never;
        }
      }
      const ttlSeconds = body.ttlSeconds ?? Math.min(DEV_TOKEN_TTL_SECONDS, deps.config.jwt.maxTtlSeconds);
      if (ttlSeconds > deps.config.jwt.maxTtlSeconds) {
        return errorResponse(c, "VALIDATION_FAILED", `ttlSeconds is at most ${deps.config.jwt.maxTtlSeconds} (JWT_MAX_TTL_SECONDS)`, [
          { path: "ttlSeconds", message: `must be at most ${deps.config.jwt.maxTtlSeconds}` },
        ]) as never;
      }
      const principal = { sub: body.sub, role: body.role, ...(body.branchId ? { branchId: body.branchId } : {}) };
      return c.json({ token: await issueToken(principal, deps.config.jwtSecret, ttlSeconds, deps.config.jwt) }, 200);
    });
}

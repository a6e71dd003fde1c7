/**
 * Branch lists for admins (every branch) and managers (their own): the branches, and a branch's
 * advisors with live state, clients and request history, all paged by cursor. The branch routes are
 * addressed by branch id, so another branch answers 403 (the caller already knows the id they
 * sent) and an unknown branch 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AppError } from "../../core/errors.ts";
import { listBranchAdvisorsLive } from "../../directory/advisorListing.ts";
import { branchExists } from "../../directory/branches.ts";
import { listBranchClients, listBranches } from "../../directory/listings.ts";
import { PRESENCES } from "../../matching/domain/types.ts";
import { listRequests } from "../../matching/records/requestHistory.ts";
import { requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps, type AppEnv } from "../context.ts";
import { ClientSchema, ListedAdvisorSchema, listedAdvisorView, RequestStatusQuery, RequestSummaryPageSchema, requestSummaryView } from "../listViews.ts";
import { PageQuerySchema, pageQuery, pageSchema, pageView } from "../pagination.ts";
import { COMMON_ERRORS, idParam, Instant, json } from "../schemas.ts";

const BranchParams = z.object({ id: idParam("branch") });

const BranchSummarySchema = z
  .object({ id: z.string(), name: z.string(), region: z.string(), timezone: z.string(), createdAt: z.string() })
  .openapi("BranchSummary");

const AdvisorsQuery = PageQuerySchema.extend({
  presence: z
    .enum(PRESENCES)
    .optional()
    .openapi({ param: { name: "presence", in: "query" } }),
});

const BranchRequestsQuery = PageQuerySchema.extend({
  status: RequestStatusQuery,
  from: Instant.optional().openapi({ param: { name: "from", in: "query" }, description: "createdAt >= from" }),
  to: Instant.optional().openapi({ param: { name: "to", in: "query" }, description: "createdAt < to" }),
}).refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), { message: "from must be before to", path: ["to"] });

const routes = {
  branches: createRoute({
    method: "get",
    path: "/v1/branches",
    tags: ["branch"],
    summary: "Branches, oldest first (admin: all; manager: their own)",
    request: { query: PageQuerySchema },
    responses: { 200: { description: "a page of branches", content: json(pageSchema(BranchSummarySchema, "BranchPage")) }, ...COMMON_ERRORS },
  }),
  advisors: createRoute({
    method: "get",
    path: "/v1/branches/{id}/advisors",
    tags: ["branch"],
    summary: "The branch's advisors with licences and live state, oldest first; ?presence= filters on the live presence",
    request: { params: BranchParams, query: AdvisorsQuery },
    responses: { 200: { description: "a page of advisors", content: json(pageSchema(ListedAdvisorSchema, "ListedAdvisorPage")) }, ...COMMON_ERRORS },
  }),
  clients: createRoute({
    method: "get",
    path: "/v1/branches/{id}/clients",
    tags: ["branch"],
    summary: "The branch's clients, oldest first",
    request: { params: BranchParams, query: PageQuerySchema },
    responses: { 200: { description: "a page of clients", content: json(pageSchema(ClientSchema, "ClientPage")) }, ...COMMON_ERRORS },
  }),
  requests: createRoute({
    method: "get",
    path: "/v1/branches/{id}/requests",
    tags: ["branch"],
    summary: "The branch's requests, newest first; filters: status, createdAt in [from, to)",
    request: { params: BranchParams, query: BranchRequestsQuery },
    responses: { 200: { description: "a page of requests", content: json(RequestSummaryPageSchema) }, ...COMMON_ERRORS },
  }),
};

export function branchRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const { store } = deps.matching;

  /** The branch in the path, once the caller may see it and it exists. */
  const branchOf = async (c: Context<AppEnv>, branchId: string): Promise<string> => {
    requireBranchAccess(requireRole(c, "admin", "manager"), branchId);
    if (!(await branchExists(prisma, branchId))) throw new AppError("NOT_FOUND", `branch ${branchId} not found`);
    return branchId;
  };

  return createRouter()
    .openapi(routes.branches, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      // A manager's token always names their branch (api/auth/principal.ts).
      const onlyBranchId = principal.role === "manager" ? (principal.branchId ?? "") : null;
      const page = await listBranches(prisma, { onlyBranchId }, pageQuery(c.req.valid("query")));
      return c.json(
        pageView(page, (b) => ({ ...b, createdAt: b.createdAt.toISOString() })),
        200,
      );
    })
    .openapi(routes.advisors, async (c) => {
      const branchId = await branchOf(c, c.req.valid("param").id);
      const query = c.req.valid("query");
      const page = await listBranchAdvisorsLive(prisma, store, branchId, query.presence ? { presence: query.presence } : {}, pageQuery(query));
      const now = new Date(deps.matching.clock.now());
      return c.json(
        pageView(page, (a) => listedAdvisorView(a, now)),
        200,
      );
    })
    .openapi(routes.clients, async (c) => {
      const branchId = await branchOf(c, c.req.valid("param").id);
      const page = await listBranchClients(prisma, branchId, pageQuery(c.req.valid("query")));
      return c.json(
        pageView(page, (client) => ({ ...client, createdAt: client.createdAt.toISOString() })),
        200,
      );
    })
    .openapi(routes.requests, async (c) => {
      const branchId = await branchOf(c, c.req.valid("param").id);
      const query = c.req.valid("query");
      const filter = {
        ...(query.status ? { status: query.status } : {}),
        ...(query.from ? { from: new Date(query.from) } : {}),
        ...(query.to ? { to: new Date(query.to) } : {}),
      };
      const page = await listRequests(prisma, { branchId }, filter, pageQuery(query));
      return c.json(pageView(page, requestSummaryView), 200);
    });
}

/**
 * The caller's own lists: a client's request history, an advisor's profile with live state and the
 * requests assigned to them. Scoped by the token's subject alone, so nobody can ask for anyone
 * else's rows. Mounted before the directory routes: GET /v1/advisors/me must not reach
 * GET /v1/advisors/{id}, which would refuse "me" as an id.
 */
import { createRoute, type z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { findListedAdvisor } from "../../directory/advisorListing.ts";
import { listRequests, type RequestOwner } from "../../matching/records/requestHistory.ts";
import { requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { ListedAdvisorSchema, listedAdvisorView, RequestStatusQuery, RequestSummaryPageSchema, requestSummaryView } from "../listViews.ts";
import { PageQuerySchema, pageQuery, pageView } from "../pagination.ts";
import { COMMON_ERRORS, json } from "../schemas.ts";

const HistoryQuery = PageQuerySchema.extend({ status: RequestStatusQuery });

const routes = {
  clientRequests: createRoute({
    method: "get",
    path: "/v1/requests",
    tags: ["client"],
    summary: "My requests (client), newest first; ?status= filters",
    request: { query: HistoryQuery },
    responses: { 200: { description: "a page of my requests", content: json(RequestSummaryPageSchema) }, ...COMMON_ERRORS },
  }),
  advisorMe: createRoute({
    method: "get",
    path: "/v1/advisors/me",
    tags: ["advisor"],
    summary: "My profile, licences and live state (advisor)",
    responses: { 200: { description: "me", content: json(ListedAdvisorSchema) }, ...COMMON_ERRORS },
  }),
  advisorRequests: createRoute({
    method: "get",
    path: "/v1/advisors/me/requests",
    tags: ["advisor"],
    summary: "Requests assigned to me (advisor), newest first; ?status= filters",
    request: { query: HistoryQuery },
    responses: { 200: { description: "a page of requests assigned to me", content: json(RequestSummaryPageSchema) }, ...COMMON_ERRORS },
  }),
};

export function meRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const { store } = deps.matching;

  const history = async (owner: RequestOwner, query: z.infer<typeof HistoryQuery>) => {
    const page = await listRequests(prisma, owner, query.status ? { status: query.status } : {}, pageQuery(query));
    return pageView(page, requestSummaryView);
  };

  return createRouter()
    .openapi(routes.clientRequests, async (c) => {
      const principal = requireRole(c, "client");
      return c.json(await history({ clientId: principal.sub }, c.req.valid("query")), 200);
    })
    .openapi(routes.advisorMe, async (c) => {
      const principal = requireRole(c, "advisor");
      const advisor = await findListedAdvisor(prisma, store, principal.sub);
      // As for presence: a token whose subject the directory does not know is no advisor of ours.
      if (!advisor) throw new AppError("FORBIDDEN", "this token's subject is not a known advisor");
      return c.json(listedAdvisorView(advisor, new Date(deps.matching.clock.now())), 200);
    })
    .openapi(routes.advisorRequests, async (c) => {
      const principal = requireRole(c, "advisor");
      return c.json(await history({ assignedAdvisorId: principal.sub }, c.req.valid("query")), 200);
    });
}

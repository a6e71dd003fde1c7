/**
 * Authorization, table-driven: every route of api/routes/ × every kind of caller, over real HTTP
 * against one in-process server on the embedded backends. Each cell names its expected outcome:
 * "allow" (status < 400, or a documented 409 where the state, not the caller, makes the action
 * impossible) or the exact denial status (401, 403, or 404 where the API hides existence).
 *
 * Fixtures are created through the API as admin. Read-only routes share one world; every mutating
 * cell builds its own world (its own branch in its own region, advisors, clients, request), so no
 * cell can see another cell's effects. A coverage test reads GET /openapi.json and fails when the
 * document has a /v1 route (or /metrics) that the table does not cover, so new routes must be
 * added here.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { sign } from "hono/jwt";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken, type Principal } from "../../api/auth/principal.ts";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { ERROR_CODES } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import { createLogger } from "../../core/logger.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import { ApiClient, RawBody, type ApiResponse } from "../support/apiClient.ts";

const SECRET = "authz-test-secret-0123456789abcdefghijklmnop";
const OTHER_SECRET = "not-the-server-secret-0123456789abcdefghijkl";

// ---- callers ---------------------------------------------------------------------------------------

const WHO = ["none", "forged", "clientOwner", "otherClient", "advisorOwner", "otherAdvisor", "managerOwn", "managerOther", "compliance", "admin"] as const;
type Who = (typeof WHO)[number];

/** What a cell expects: the call goes through, or exactly this denial. */
type Outcome = "allow" | 401 | 403 | 404;

/** A row of the table: unlisted authenticated callers get `rest`; no token and a forged token get 401. */
function row(rest: Outcome, cells: Partial<Record<Who, Outcome>>): Record<Who, Outcome> {
  const out = {} as Record<Who, Outcome>;
  for (const who of WHO) out[who] = cells[who] ?? (who === "none" || who === "forged" ? 401 : rest);
  return out;
}
const everyone = (): Record<Who, Outcome> => Object.fromEntries(WHO.map((w) => [w, "allow"])) as Record<Who, Outcome>;

// ---- worlds ----------------------------------------------------------------------------------------

/** How far a world is taken: directory rows only, advisors available, a request offered / assigned / completed. */
type Level = "empty" | "directory" | "available" | "offered" | "assigned" | "completed";
const LEVELS: Level[] = ["empty", "directory", "available", "offered", "assigned", "completed"];
const atLeast = (level: Level, min: Level) => LEVELS.indexOf(level) >= LEVELS.indexOf(min);

interface World {
  level: Level;
  tag: string;
  branchId: string;
  advisorOwnerId: string;
  otherAdvisorId: string;
  clientOwnerId: string;
  otherClientId: string;
  requestId?: string;
  offerId?: string;
  tokens: Record<Exclude<Who, "none">, string>;
  as(who: Who): ApiClient;
}

let server: RunningServer;
let dataDir: string;
let api: ApiClient;
let admin: ApiClient;
/** Branch B: the "other" branch of every world (its manager is managerOther), with its own people and an assigned request. */
let worldB: World;
/** The world the read-only cells share: a request assigned to advisorOwner. */
let shared: World;

const tokenFor = (principal: Principal, secret = SECRET) => issueToken(principal, secret);
let seq = 0;
const tag = () => `${Date.now().toString(36)}${(seq++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function ok<T = any>(res: Promise<ApiResponse<T>>, expected: number, what: string): Promise<ApiResponse<T>> {
  const r = await res;
  if (r.status !== expected) throw new Error(`fixture: ${what} answered ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

function advisorBody(branchId: string, t: string, n: number) {
  return {
    branchId,
    name: `Advisor ${n} ${t}`,
    languages: ["en"],
    maxConcurrent: 3,
    suitabilityMaxRisk: 4,
    licences: [{ kind: "fund_sales", number: `FS-${t}-${n}`, validUntil: "2099-01-01T00:00:00.000Z" }],
  };
}

async function openOffer(advisor: ApiClient, requestId: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const offers = await ok(advisor.call("GET", "/v1/advisors/me/offers"), 200, "list offers");
    const offer = (offers.body as Array<{ offerId: string; requestId: string }>).find((o) => o.requestId === requestId);
    if (offer) return offer.offerId;
    if (Date.now() > deadline) throw new Error(`fixture: no offer for ${requestId} reached the dedicated advisor`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A fresh world: its own branch in its own region (so the funnel's region stage never reaches
 * another world), two fund_sales advisors, a client whose dedicated advisor is advisorOwner (so
 * the first offer deterministically goes to advisorOwner) and another client, all through the API.
 */
async function makeWorld(level: Level, otherBranchId?: string): Promise<World> {
  const t = tag();
  const branchId = (await ok(admin.call("POST", "/v1/branches", { name: `Branch ${t}`, region: `region-${t}` }), 201, "create branch")).body.id as string;
  // Every world has a draft incentive rule set (version 1) for the incentive routes to address.
  await ok(admin.call("POST", `/v1/branches/${branchId}/incentive-rules`, incentiveRules()), 201, "create incentive rules");
  const advisorOwnerId = (await ok(admin.call("POST", "/v1/advisors", advisorBody(branchId, t, 1)), 201, "create advisor")).body.id as string;
  const otherAdvisorId = (await ok(admin.call("POST", "/v1/advisors", advisorBody(branchId, t, 2)), 201, "create advisor")).body.id as string;
  const clientOwnerId = (
    await ok(
      admin.call("POST", "/v1/clients", { branchId, name: `Client 1 ${t}`, riskLevel: 2, language: "en", dedicatedAdvisorId: advisorOwnerId }),
      201,
      "create client",
    )
  ).body.id as string;
  const otherClientId = (await ok(admin.call("POST", "/v1/clients", { branchId, name: `Client 2 ${t}`, riskLevel: 2, language: "en" }), 201, "create client"))
    .body.id as string;

  const tokens: World["tokens"] = {
    // Forged: an admin token, well formed, signed with a secret the server does not know.
    forged: await tokenFor({ sub: "admin_forger", role: "admin" }, OTHER_SECRET),
    clientOwner: await tokenFor({ sub: clientOwnerId, role: "client" }),
    otherClient: await tokenFor({ sub: otherClientId, role: "client" }),
    advisorOwner: await tokenFor({ sub: advisorOwnerId, role: "advisor", branchId }),
    otherAdvisor: await tokenFor({ sub: otherAdvisorId, role: "advisor", branchId }),
    managerOwn: await tokenFor({ sub: `manager_of_${branchId}`, role: "manager", branchId }),
    managerOther: await tokenFor({ sub: `manager_of_${otherBranchId ?? "nowhere"}`, role: "manager", branchId: otherBranchId ?? "brn_nowhere" }),
    compliance: await tokenFor({ sub: "compliance_officer", role: "compliance" }),
    admin: await tokenFor({ sub: "admin_authz", role: "admin" }),
  };
  const world: World = {
    level,
    tag: t,
    branchId,
    advisorOwnerId,
    otherAdvisorId,
    clientOwnerId,
    otherClientId,
    tokens,
    as: (who) => (who === "none" ? api : api.as(tokens[who])),
  };

  if (atLeast(level, "available")) {
    await ok(world.as("advisorOwner").call("PUT", "/v1/advisors/me/presence", { status: "available" }), 200, "presence");
    await ok(world.as("otherAdvisor").call("PUT", "/v1/advisors/me/presence", { status: "available" }), 200, "presence");
  }
  if (atLeast(level, "offered")) {
    const created = await ok(
      world.as("clientOwner").call("POST", "/v1/requests", { topic: `topic ${t}`, requiredLicence: "fund_sales", channel: "chat", mode: "dispatch" }),
      201,
      "create request",
    );
    world.requestId = created.body.id as string;
    world.offerId = await openOffer(world.as("advisorOwner"), world.requestId);
  }
  if (atLeast(level, "assigned")) await ok(world.as("advisorOwner").call("POST", `/v1/offers/${world.offerId}/accept`), 200, "accept");
  if (atLeast(level, "completed")) await ok(world.as("advisorOwner").call("POST", `/v1/requests/${world.requestId}/complete`), 200, "complete");
  return world;
}

/** Leaves a mutating cell's world inert: its request ended and its advisors offline. */
async function retire(world: World): Promise<void> {
  if (world.requestId) await world.as("clientOwner").call("POST", `/v1/requests/${world.requestId}/cancel`);
  if (atLeast(world.level, "available")) {
    await world.as("advisorOwner").call("PUT", "/v1/advisors/me/presence", { status: "offline" });
    await world.as("otherAdvisor").call("PUT", "/v1/advisors/me/presence", { status: "offline" });
  }
}

// ---- the table -------------------------------------------------------------------------------------

interface Call {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RouteCase {
  /** "METHOD /openapi/path/{id}", exactly as in GET /openapi.json. */
  route: string;
  /** "shared": read-only, runs against the shared world; otherwise a fresh world of this level per cell. */
  world: "shared" | Level;
  call(w: World): Call;
  expect: Record<Who, Outcome>;
  /** The route is addressed by, or writes into, a branch: a manager of another branch must get 403/404. */
  branchScoped?: boolean;
}

const incentiveRules = () => ({
  rules: [{ id: "fast_accept", on: "offer.accepted", when: { responseSecondsAtMost: 10 }, award: { points: 5 } }],
  budget: { points: 1000, period: "week" },
});

const policyBody = () => structuredClone({ ...DEFAULT_DISPATCH_POLICY, stages: DEFAULT_DISPATCH_POLICY.stages.map((s) => ({ ...s })), offerTtlSeconds: 25 });

const TABLE: RouteCase[] = [
  // -- public by design (health checks; the dev token endpoint mints tokens and exists only with DEV_AUTH)
  { route: "GET /healthz", world: "shared", call: () => ({ path: "/healthz" }), expect: everyone() },
  { route: "GET /readyz", world: "shared", call: () => ({ path: "/readyz" }), expect: everyone() },
  { route: "POST /v1/dev/token", world: "shared", call: () => ({ path: "/v1/dev/token", body: { sub: "someone", role: "compliance" } }), expect: everyone() },
  { route: "GET /v1/dev/users", world: "shared", call: () => ({ path: "/v1/dev/users" }), expect: everyone() },

  // -- client routes
  {
    route: "POST /v1/requests",
    world: "available",
    call: () => ({ path: "/v1/requests", body: { topic: "pension", requiredLicence: "fund_sales", channel: "chat" } }),
    expect: row(403, { clientOwner: "allow", otherClient: "allow" }),
  },
  {
    route: "GET /v1/requests/{id}",
    world: "shared",
    call: (w) => ({ path: `/v1/requests/${w.requestId}` }),
    // Someone else's request answers 404, exactly like one that does not exist.
    expect: row(404, { clientOwner: "allow", advisorOwner: "allow", managerOwn: "allow", compliance: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/requests/{id}/wait-estimate",
    world: "shared",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/wait-estimate` }),
    // Read like the request itself (GET /v1/requests/{id}).
    expect: row(404, { clientOwner: "allow", advisorOwner: "allow", managerOwn: "allow", compliance: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/requests/{id}/cancel",
    world: "offered",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/cancel` }),
    expect: row(403, { clientOwner: "allow", otherClient: 404 }),
  },
  {
    route: "POST /v1/requests/{id}/rating",
    world: "completed",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/rating`, body: { stars: 5, comment: "good" } }),
    expect: row(403, { clientOwner: "allow", otherClient: 404 }),
  },
  {
    route: "POST /v1/requests/{id}/complete",
    world: "assigned",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/complete` }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: 404 }),
  },

  {
    route: "GET /v1/requests/{id}/messages",
    world: "shared",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/messages` }),
    expect: row(404, { clientOwner: "allow", advisorOwner: "allow", managerOwn: "allow", compliance: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/requests/{id}/messages",
    world: "assigned",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/messages`, body: { body: "hello" } }),
    // Only the two parties write; everyone else, third parties included, is refused.
    expect: row(403, { clientOwner: "allow", advisorOwner: "allow" }),
  },

  // -- advisor self-service
  {
    route: "PUT /v1/advisors/me/presence",
    world: "directory",
    call: () => ({ path: "/v1/advisors/me/presence", body: { status: "available" } }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: "allow" }),
  },
  {
    route: "GET /v1/advisors/me/offers",
    world: "shared",
    call: () => ({ path: "/v1/advisors/me/offers" }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: "allow" }),
  },
  // -- own lists (each caller sees only their own rows: the explicit case "own lists" checks the rows)
  { route: "GET /v1/requests", world: "shared", call: () => ({ path: "/v1/requests" }), expect: row(403, { clientOwner: "allow", otherClient: "allow" }) },
  {
    route: "GET /v1/advisors/me",
    world: "shared",
    call: () => ({ path: "/v1/advisors/me" }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: "allow" }),
  },
  {
    route: "GET /v1/advisors/me/requests",
    world: "shared",
    call: () => ({ path: "/v1/advisors/me/requests?status=assigned" }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: "allow" }),
  },
  {
    route: "POST /v1/offers/{id}/accept",
    world: "offered",
    call: (w) => ({ path: `/v1/offers/${w.offerId}/accept` }),
    expect: row(403, { advisorOwner: "allow" }),
  },
  {
    route: "POST /v1/offers/{id}/decline",
    world: "offered",
    call: (w) => ({ path: `/v1/offers/${w.offerId}/decline` }),
    expect: row(403, { advisorOwner: "allow" }),
  },

  // -- directory
  {
    route: "POST /v1/branches",
    world: "empty",
    call: (w) => ({ path: "/v1/branches", body: { name: `New ${w.tag}`, region: "north" } }),
    expect: row(403, { admin: "allow" }),
  },
  {
    route: "POST /v1/advisors",
    world: "directory",
    call: (w) => ({ path: "/v1/advisors", body: advisorBody(w.branchId, w.tag, 9) }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/clients",
    world: "directory",
    call: (w) => ({
      path: "/v1/clients",
      body: { branchId: w.branchId, name: `New client ${w.tag}`, riskLevel: 3, language: "en", dedicatedAdvisorId: w.advisorOwnerId },
    }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/advisors/{id}",
    world: "shared",
    call: (w) => ({ path: `/v1/advisors/${w.advisorOwnerId}` }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: 404, managerOwn: "allow", managerOther: 404, admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/clients/{id}",
    world: "shared",
    call: (w) => ({ path: `/v1/clients/${w.clientOwnerId}` }),
    expect: row(403, { clientOwner: "allow", otherClient: 404, managerOwn: "allow", managerOther: 404, admin: "allow" }),
    branchScoped: true,
  },

  {
    route: "POST /v1/advisors/{id}/offboard",
    world: "assigned",
    call: (w) => ({ path: `/v1/advisors/${w.advisorOwnerId}/offboard`, body: { reason: "left" } }),
    expect: row(403, { managerOwn: "allow", managerOther: 404, admin: "allow" }),
    branchScoped: true,
  },

  // -- licence register (admins only: a licence is regulated data, not a branch setting)
  {
    route: "PATCH /v1/licences/{kind}/{number}",
    world: "directory",
    call: (w) => ({ path: `/v1/licences/fund_sales/FS-${w.tag}-1`, body: { status: "suspended", reason: "authz" } }),
    expect: row(403, { admin: "allow" }),
  },
  {
    route: "POST /v1/licences/import",
    world: "directory",
    call: (w) => ({
      path: "/v1/licences/import",
      body: new RawBody(`kind,number,status,validUntil\nfund_sales,FS-${w.tag}-1,suspended,\n`),
      headers: { "content-type": "text/csv" },
    }),
    expect: row(403, { admin: "allow" }),
  },

  // -- branch operations
  {
    route: "GET /v1/branches/{id}/dispatch-policy",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/dispatch-policy` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "PUT /v1/branches/{id}/dispatch-policy",
    world: "directory",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/dispatch-policy`, body: { ...policyBody(), expectedVersion: 0 } }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/branches/{id}/dispatch-policy/simulate",
    world: "shared",
    call: (w) => ({
      path: `/v1/branches/${w.branchId}/dispatch-policy/simulate`,
      body: { policy: policyBody(), from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" },
    }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/branches/{id}/queue",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/queue?limit=50` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/branches/{id}/kpis",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/kpis?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&bucket=hour` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/branches/{id}/staffing",
    world: "shared",
    // Two days ago: within the 400 days before the branch's today in any timezone.
    call: (w) => ({ path: `/v1/branches/${w.branchId}/staffing?date=${new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10)}` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  // A manager lists their own branch only (so managerOther is allowed, and sees only theirs).
  {
    route: "GET /v1/branches",
    world: "shared",
    call: () => ({ path: "/v1/branches?limit=5" }),
    expect: row(403, { managerOwn: "allow", managerOther: "allow", admin: "allow" }),
  },
  ...(["advisors", "clients", "requests"] as const).map(
    (list): RouteCase => ({
      route: `GET /v1/branches/{id}/${list}`,
      world: "shared",
      call: (w) => ({ path: `/v1/branches/${w.branchId}/${list}?limit=5` }),
      expect: row(403, { managerOwn: "allow", admin: "allow" }),
      branchScoped: true,
    }),
  ),

  // -- incentives
  {
    route: "GET /v1/branches/{id}/incentive-rules",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/incentive-rules` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/branches/{id}/incentive-rules",
    world: "directory",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/incentive-rules`, body: incentiveRules() }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/branches/{id}/incentive-rules/{version}",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/incentive-rules/1` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/branches/{id}/incentive-rules/{version}/simulate",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/incentive-rules/1/simulate`, body: { from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" } }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "POST /v1/branches/{id}/incentive-rules/{version}/activate",
    world: "directory",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/incentive-rules/1/activate` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/branches/{id}/leaderboard",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/leaderboard` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    route: "GET /v1/branches/{id}/settlements",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/settlements?limit=10` }),
    expect: row(403, { managerOwn: "allow", admin: "allow" }),
    branchScoped: true,
  },
  {
    // No period of the shared world is settled (settling needs the database this in-process server
    // keeps to itself), so the callers let through meet the 404 of an unknown settlement; the others
    // are refused before any lookup. tests/api/settlements.test.ts reads real settled periods.
    route: "GET /v1/branches/{id}/settlements/{settlementId}",
    world: "shared",
    call: (w) => ({ path: `/v1/branches/${w.branchId}/settlements/stl_${w.tag}?format=csv` }),
    expect: row(403, { managerOwn: 404, admin: 404 }),
    branchScoped: true,
  },
  {
    route: "GET /v1/advisors/me/earnings",
    world: "shared",
    call: () => ({ path: "/v1/advisors/me/earnings" }),
    expect: row(403, { advisorOwner: "allow", otherAdvisor: "allow" }),
  },

  // -- audit record
  { route: "GET /v1/audit/verify", world: "shared", call: () => ({ path: "/v1/audit/verify" }), expect: row(403, { compliance: "allow", admin: "allow" }) },
  {
    route: "GET /v1/audit/export",
    world: "shared",
    call: () => ({ path: "/v1/audit/export?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z" }),
    expect: row(403, { compliance: "allow" }),
  },
  {
    route: "GET /v1/requests/{id}/record",
    world: "shared",
    call: (w) => ({ path: `/v1/requests/${w.requestId}/record` }),
    // Parties to the request are refused outright; another branch's manager must not learn it exists.
    expect: row(403, { managerOwn: "allow", managerOther: 404, compliance: "allow", admin: "allow" }),
    branchScoped: true,
  },

  // -- operations
  { route: "GET /metrics", world: "shared", call: () => ({ path: "/metrics" }), expect: row(403, { admin: "allow" }) },
];

const CODE_BY_STATUS: Record<number, string> = { 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND" };

function expectErrorShape(res: ApiResponse, context: string) {
  expect(res.body, `${context}: error body`).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) } });
  expect(ERROR_CODES, context).toContain(res.body.error.code);
}

function checkCell(res: ApiResponse, expected: Outcome, context: string) {
  const shown = `${context} → ${res.status} ${typeof res.body === "string" ? res.body.slice(0, 200) : JSON.stringify(res.body)?.slice(0, 300)}`;
  if (expected === "allow") {
    // A 409 counts only when it is a domain conflict of the state (never an authorization answer in disguise).
    const conflict =
      res.status === 409 && ["CONFLICT", "INVALID_STATE", "OFFER_EXPIRED", "ALREADY_TAKEN", "AT_CAPACITY", "NOT_ELIGIBLE"].includes(res.body?.error?.code);
    expect(res.status < 400 || conflict, shown).toBe(true);
  } else {
    expect(res.status, shown).toBe(expected);
    expectErrorShape(res, shown);
    expect(res.body.error.code, shown).toBe(CODE_BY_STATUS[expected]);
  }
}

async function send(world: World, who: Who, method: string, c: Call): Promise<ApiResponse> {
  return world.as(who).call(method, c.path, c.body, c.headers);
}

// ---- the suite -------------------------------------------------------------------------------------

describe("authorization: every route × every caller (embedded backends)", () => {
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-authz-"));
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DEV_AUTH: "true", SEED_DEMO: "false", JWT_SECRET: SECRET }),
      createLogger(process.env.AUTHZ_LOG_LEVEL ?? "silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
    admin = api.as(await tokenFor({ sub: "admin_authz", role: "admin" }));
    worldB = await makeWorld("assigned", "brn_placeholder");
    shared = await makeWorld("assigned", worldB.branchId);
  });
  afterAll(async () => {
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("the table covers every /v1 route and /metrics in GET /openapi.json, and nothing that is not there", async () => {
    const doc = await api.call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    const documented: string[] = [];
    for (const [p, item] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) {
        if (["get", "put", "post", "delete", "patch", "head", "options"].includes(method)) documented.push(`${method.toUpperCase()} ${p}`);
      }
    }
    const covered = new Set(TABLE.map((r) => r.route));
    const mustCover = documented.filter((r) => /^\w+ (\/v1\/|\/metrics$)/.test(r));
    expect(mustCover.length).toBeGreaterThan(10);
    expect(
      mustCover.filter((r) => !covered.has(r)),
      "documented routes missing from the authorization table",
    ).toEqual([]);
    expect(
      [...covered].filter((r) => !documented.includes(r)),
      "table rows for routes the document does not have",
    ).toEqual([]);
  });

  for (const rc of TABLE) {
    const [method, template] = rc.route.split(" ") as [string, string];
    describe(rc.route, () => {
      for (const who of WHO) {
        const expected = rc.expect[who];
        it(`${who} → ${expected}`, async () => {
          if (rc.world === "shared") {
            const c = rc.call(shared);
            checkCell(await send(shared, who, method, c), expected, `${method} ${c.path} as ${who}`);
            return;
          }
          const world = await makeWorld(rc.world, worldB.branchId);
          try {
            const c = rc.call(world);
            expect(c.path.startsWith(template.split("{")[0]!)).toBe(true);
            const res = await send(world, who, method, c);
            checkCell(res, expected, `${method} ${c.path} as ${who}`);
            if (expected !== "allow") await expectUnchanged(rc.route, world);
            // A request created by the cell is ended with the world.
            if (rc.route === "POST /v1/requests" && res.status === 201) await send(world, who, "POST", { path: `/v1/requests/${res.body.id}/cancel` });
          } finally {
            await retire(world);
          }
        });
      }
    });
  }

  // ---- explicit cases ----------------------------------------------------------------------------

  describe("explicit cases", () => {
    it("a manager of branch A gets 403 or 404 on branch B's data for every branch-scoped route, and changes nothing there", async () => {
      const managerA = api.as(shared.tokens.managerOwn);
      const b = worldB;
      const t = tag();
      const attempts: Array<[string, string, unknown?]> = [
        ["GET", `/v1/requests/${b.requestId}`],
        ["GET", `/v1/advisors/${b.advisorOwnerId}`],
        ["GET", `/v1/advisors/${b.otherAdvisorId}`],
        ["GET", `/v1/clients/${b.clientOwnerId}`],
        ["GET", `/v1/clients/${b.otherClientId}`],
        ["POST", "/v1/advisors", advisorBody(b.branchId, t, 1)],
        ["POST", "/v1/clients", { branchId: b.branchId, name: "Smuggled", riskLevel: 1, language: "en" }],
        ["GET", `/v1/branches/${b.branchId}/dispatch-policy`],
        ["PUT", `/v1/branches/${b.branchId}/dispatch-policy`, { ...policyBody(), expectedVersion: 0 }],
        ["POST", `/v1/branches/${b.branchId}/dispatch-policy/simulate`, { policy: policyBody(), from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z" }],
        ["GET", `/v1/branches/${b.branchId}/queue`],
        ["GET", `/v1/branches/${b.branchId}/kpis?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`],
        ["GET", `/v1/branches/${b.branchId}/staffing?date=${new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10)}`],
        ["GET", `/v1/branches/${b.branchId}/advisors`],
        ["GET", `/v1/branches/${b.branchId}/clients`],
        ["GET", `/v1/branches/${b.branchId}/requests`],
        ["GET", `/v1/branches/${b.branchId}/incentive-rules`],
        ["POST", `/v1/branches/${b.branchId}/incentive-rules`, incentiveRules()],
        ["GET", `/v1/branches/${b.branchId}/incentive-rules/1`],
        ["POST", `/v1/branches/${b.branchId}/incentive-rules/1/simulate`, { from: "2026-01-01T00:00:00Z", to: "2027-01-01T00:00:00Z" }],
        ["POST", `/v1/branches/${b.branchId}/incentive-rules/1/activate`],
        ["GET", `/v1/branches/${b.branchId}/leaderboard`],
        ["GET", `/v1/branches/${b.branchId}/settlements`],
        ["GET", `/v1/branches/${b.branchId}/settlements/${newId("settlement")}`],
        ["POST", `/v1/advisors/${b.advisorOwnerId}/offboard`, { reason: "poached" }],
      ];
      // Every branch-scoped row of the table has at least one attempt here.
      for (const rc of TABLE.filter((r) => r.branchScoped)) {
        const [m, tpl] = rc.route.split(" ") as [string, string];
        const prefix = tpl.split("{")[0]!;
        expect(
          attempts.some(([am, ap]) => am === m && ap.startsWith(prefix)),
          `no cross-branch attempt for ${rc.route}`,
        ).toBe(true);
      }
      for (const [m, p, body] of attempts) {
        const res = await managerA.call(m, p, body);
        expect([403, 404], `${m} ${p} as manager of A → ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
        expectErrorShape(res, `${m} ${p}`);
      }
      // A dedicated advisor of another branch is hidden too (404, not a 409 that names their branch).
      const dedicated = await managerA.call("POST", "/v1/clients", {
        branchId: shared.branchId,
        name: "Poacher",
        riskLevel: 1,
        language: "en",
        dedicatedAdvisorId: b.advisorOwnerId,
      });
      expect(dedicated.status, JSON.stringify(dedicated.body)).toBe(404);
      expect(JSON.stringify(dedicated.body)).not.toContain(b.branchId);

      // Nothing changed in B: the policy is still the default, the licence number is still free.
      expect((await admin.call("GET", `/v1/branches/${b.branchId}/dispatch-policy`)).body.version).toBe(0);
      expect((await admin.call("GET", `/v1/advisors/${b.advisorOwnerId}`)).body.status).toBe("active");
      expect((await admin.call("POST", "/v1/advisors", advisorBody(b.branchId, t, 1))).status).toBe(201);
      const queue = await admin.call("GET", `/v1/branches/${b.branchId}/queue`);
      expect(queue.status).toBe(200);
    });

    it("an advisor cannot accept or decline another advisor's offer (same branch or another), and the offer stays open for its owner", async () => {
      const w = await makeWorld("offered", worldB.branchId);
      try {
        const intruders = [w.as("otherAdvisor"), api.as(worldB.tokens.advisorOwner), api.as(worldB.tokens.otherAdvisor)];
        // The other branch's advisors are available too, so nothing but ownership stops them.
        await ok(api.as(worldB.tokens.otherAdvisor).call("PUT", "/v1/advisors/me/presence", { status: "available" }), 200, "presence");
        for (const intruder of intruders) {
          for (const action of ["accept", "decline"]) {
            const res = await intruder.call("POST", `/v1/offers/${w.offerId}/${action}`);
            expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(403);
            expect(res.body.error.code).toBe("FORBIDDEN");
          }
        }
        // Their offer lists never show it; the owner's still does.
        for (const intruder of intruders) {
          const offers = await intruder.call("GET", "/v1/advisors/me/offers");
          expect(offers.body.map((o: { offerId: string }) => o.offerId)).not.toContain(w.offerId);
        }
        const mine = await w.as("advisorOwner").call("GET", "/v1/advisors/me/offers");
        expect(mine.body.map((o: { offerId: string }) => o.offerId)).toContain(w.offerId);
        expect((await admin.call("GET", `/v1/requests/${w.requestId}`)).body.status).toBe("offered");
        // The owner can still accept; then the other advisor cannot complete it.
        expect((await w.as("advisorOwner").call("POST", `/v1/offers/${w.offerId}/accept`)).status).toBe(200);
        const complete = await w.as("otherAdvisor").call("POST", `/v1/requests/${w.requestId}/complete`);
        expect(complete.status).toBe(404);
        expect((await admin.call("GET", `/v1/requests/${w.requestId}`)).body.status).toBe("assigned");
      } finally {
        await api.as(worldB.tokens.otherAdvisor).call("PUT", "/v1/advisors/me/presence", { status: "offline" });
        await retire(w);
      }
    });

    it("own lists: clients, advisors and managers see only their own rows", async () => {
      type Item = { id: string; clientId?: string; branchId?: string; assignedAdvisorId?: string | null };
      const listed = async (who: ApiClient, p: string): Promise<Item[]> => {
        const res = await who.call("GET", p);
        expect(res.status, `${p}: ${JSON.stringify(res.body)}`).toBe(200);
        return res.body.items as Item[];
      };
      const ids = (items: Item[]) => items.map((i) => i.id);
      const owners: Array<[ApiClient, string, string | undefined]> = [
        [shared.as("clientOwner"), shared.clientOwnerId, shared.requestId],
        [shared.as("otherClient"), shared.otherClientId, undefined],
        [api.as(worldB.tokens.clientOwner), worldB.clientOwnerId, worldB.requestId],
      ];
      for (const [who, clientId, own] of owners) {
        const mine = await listed(who, "/v1/requests");
        expect(mine.every((r) => r.clientId === clientId)).toBe(true);
        for (const requestId of [shared.requestId, worldB.requestId]) expect(ids(mine).includes(requestId!)).toBe(requestId === own);
      }
      const advisorOwn = await listed(shared.as("advisorOwner"), "/v1/advisors/me/requests");
      expect(ids(advisorOwn)).toContain(shared.requestId);
      expect(advisorOwn.every((r) => r.assignedAdvisorId === shared.advisorOwnerId)).toBe(true);
      const advisorOther = await listed(shared.as("otherAdvisor"), "/v1/advisors/me/requests");
      expect(advisorOther.every((r) => r.assignedAdvisorId === shared.otherAdvisorId)).toBe(true);
      expect(ids(advisorOther)).not.toContain(shared.requestId);
      expect((await shared.as("otherAdvisor").call("GET", "/v1/advisors/me")).body.id).toBe(shared.otherAdvisorId);
      expect(ids(await listed(shared.as("managerOwn"), "/v1/branches"))).toEqual([shared.branchId]);
      expect(ids(await listed(shared.as("managerOther"), "/v1/branches"))).toEqual([worldB.branchId]);
      for (const list of ["requests", "clients", "advisors"]) {
        const rows = await listed(shared.as("managerOwn"), `/v1/branches/${shared.branchId}/${list}`);
        expect(rows.every((r) => r.branchId === shared.branchId)).toBe(true);
        expect(ids(rows)).toEqual(
          expect.arrayContaining(
            list === "requests"
              ? [shared.requestId]
              : list === "clients"
                ? [shared.clientOwnerId, shared.otherClientId]
                : [shared.advisorOwnerId, shared.otherAdvisorId],
          ),
        );
      }
    });

    it("a client sees only their own requests: another client's request answers exactly like a missing one", async () => {
      const w = await makeWorld("offered", worldB.branchId);
      try {
        const missing = await w.as("otherClient").call("GET", `/v1/requests/${newId("request")}`);
        expect(missing.status).toBe(404);
        const strangers = [w.as("otherClient"), api.as(worldB.tokens.clientOwner), api.as(worldB.tokens.otherClient)];
        for (const stranger of strangers) {
          const read = await stranger.call("GET", `/v1/requests/${w.requestId}`);
          expect(read.status).toBe(404);
          expect(read.body.error.code).toBe(missing.body.error.code);
          expect(read.body.error.message).toBe(missing.body.error.message);
          expect((await stranger.call("POST", `/v1/requests/${w.requestId}/cancel`)).status).toBe(404);
          expect((await stranger.call("POST", `/v1/requests/${w.requestId}/rating`, { stars: 1 })).status).toBe(404);
          expect((await stranger.call("GET", `/v1/clients/${w.clientOwnerId}`)).status).toBe(404);
        }
        const own = await w.as("clientOwner").call("GET", `/v1/requests/${w.requestId}`);
        expect(own.status).toBe(200);
        expect(own.body.id).toBe(w.requestId);
        expect(own.body.status).toBe("offered");
        // Internal ownership fields are not echoed.
        expect(own.body).not.toHaveProperty("clientId");
        expect(own.body).not.toHaveProperty("branchId");
      } finally {
        await retire(w);
      }
    });

    it("an Idempotency-Key is scoped to its client: another client with the same key and body gets their own request", async () => {
      const w = await makeWorld("available", worldB.branchId);
      try {
        const body = { topic: "same", requiredLicence: "fund_sales", channel: "voice" };
        const key = `shared-key-${w.tag}`;
        const first = await w.as("clientOwner").call("POST", "/v1/requests", body, { "idempotency-key": key });
        const second = await w.as("otherClient").call("POST", "/v1/requests", body, { "idempotency-key": key });
        expect(first.status).toBe(201);
        expect(second.status, JSON.stringify(second.body)).toBe(201);
        expect(second.body.id).not.toBe(first.body.id);
        await w.as("otherClient").call("POST", `/v1/requests/${second.body.id}/cancel`);
        w.requestId = first.body.id;
      } finally {
        await retire(w);
      }
    });

    it("a token whose subject is not in the directory cannot act as a client or an advisor", async () => {
      const ghostClient = api.as(await tokenFor({ sub: newId("client"), role: "client" }));
      const res = await ghostClient.call("POST", "/v1/requests", { topic: "x", requiredLicence: "fund_sales", channel: "chat" });
      expect(res.status).toBe(403);
      const ghostAdvisor = api.as(await tokenFor({ sub: newId("advisor"), role: "advisor", branchId: shared.branchId }));
      expect((await ghostAdvisor.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(403);
      // A client id used as an advisor subject (and the reverse) is not an advisor (or a client).
      const clientAsAdvisor = api.as(await tokenFor({ sub: shared.clientOwnerId, role: "advisor", branchId: shared.branchId }));
      expect((await clientAsAdvisor.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(403);
      const advisorAsClient = api.as(await tokenFor({ sub: shared.advisorOwnerId, role: "client" }));
      expect((await advisorAsClient.call("POST", "/v1/requests", { topic: "x", requiredLicence: "fund_sales", channel: "chat" })).status).toBe(403);
    });

    it("refuses every kind of bad token with 401 in the error shape", async () => {
      const now = Math.floor(Date.now() / 1000);
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const good = await tokenFor({ sub: "admin_authz", role: "admin" });
      const [h, , s] = good.split(".");
      const clientToken = await tokenFor({ sub: shared.clientOwnerId, role: "client" });
      const [ch, , cs] = clientToken.split(".");
      const bad: Record<string, string | undefined> = {
        "no header": undefined,
        "empty bearer": "Bearer ",
        "basic scheme": `Basic ${Buffer.from("admin:admin").toString("base64")}`,
        "token without scheme": good,
        "two tokens": `Bearer ${good} ${good}`,
        "forged secret": `Bearer ${await tokenFor({ sub: "admin_authz", role: "admin" }, OTHER_SECRET)}`,
        expired: `Bearer ${await issueToken({ sub: "admin_authz", role: "admin" }, SECRET, -60)}`,
        "alg none": `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "admin_authz", role: "admin", exp: now + 600 })}.`,
        "client token with its payload raised to admin": `Bearer ${ch}.${b64({ sub: shared.clientOwnerId, role: "admin", iat: now, exp: now + 600 })}.${cs}`,
        "truncated signature": `Bearer ${h}.${good.split(".")[1]}.${s!.slice(0, -4)}`,
        "unknown role": `Bearer ${await sign({ sub: "x", role: "superuser", exp: now + 600 }, SECRET, "HS256")}`,
        "manager without a branch": `Bearer ${await sign({ sub: "x", role: "manager", exp: now + 600 }, SECRET, "HS256")}`,
        "HS512 with the right secret": `Bearer ${await sign({ sub: "admin_authz", role: "admin", exp: now + 600 }, SECRET, "HS512")}`,
        garbage: "Bearer not.a.jwt",
      };
      for (const [name, authorization] of Object.entries(bad)) {
        for (const p of ["/metrics", "/v1/advisors/me/offers", `/v1/branches/${shared.branchId}/queue`]) {
          const res = await api.call("GET", p, undefined, authorization === undefined ? {} : { authorization });
          expect(res.status, `${name} on ${p}: ${JSON.stringify(res.body)}`).toBe(401);
          expectErrorShape(res, name);
          expect(res.body.error.code).toBe("UNAUTHENTICATED");
        }
      }
    });

    it("no spelling of a protected path reaches its handler without a token", async () => {
      const raw = (p: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request({ host: "127.0.0.1", port: server.port, path: p, method: "GET" }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on("error", reject);
          req.end();
        });
      const spellings = [
        "/metrics/",
        "/metrics?format=text",
        "/METRICS",
        "/%6detrics",
        "//metrics",
        "/./metrics",
        "/healthz/../metrics",
        "/v1/../metrics",
        "/v1//advisors/me/offers",
        "/%76%31/advisors/me/offers",
        "/v1/advisors/me/offers/",
        "/v1/advisors/me/offers;x",
        "/v1/dev/token/../../v1/advisors/me/offers",
        `/v1/branches/${shared.branchId}/queue%3Flimit=1`,
        `/V1/branches/${shared.branchId}/queue`,
        "/v1/advisors/me%2Foffers",
      ];
      for (const p of spellings) {
        const res = await raw(p);
        expect([400, 401, 404], `${p} → ${res.status} ${res.body.slice(0, 200)}`).toContain(res.status);
        expect(res.body).not.toContain("# HELP");
        if (res.body)
          expect(JSON.parse(res.body)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), requestId: expect.any(String) } });
      }
    });

    it("the realtime socket refuses a missing or forged token", async () => {
      const base = `ws://127.0.0.1:${server.port}/v1/ws`;
      const forged = await tokenFor({ sub: shared.advisorOwnerId, role: "advisor", branchId: shared.branchId }, OTHER_SECRET);
      for (const url of [base, `${base}?token=`, `${base}?token=${encodeURIComponent(forged)}`, `${base}?token=garbage`]) {
        const status = await new Promise<number>((resolve) => {
          const ws = new WebSocket(url);
          ws.once("open", () => {
            ws.close();
            resolve(101);
          });
          ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          ws.once("error", () => resolve(-1));
        });
        expect(status, url).toBe(401);
      }
    });
  });
});

/**
 * After a denied mutating cell, the world must look as if nothing was tried. Checked through the
 * API as admin (and as the owners where only they can see).
 */
async function expectUnchanged(route: string, w: World): Promise<void> {
  const adminApi = w.as("admin");
  switch (route) {
    case "POST /v1/requests/{id}/cancel":
    case "POST /v1/offers/{id}/decline":
    case "POST /v1/offers/{id}/accept": {
      expect((await adminApi.call("GET", `/v1/requests/${w.requestId}`)).body.status).toBe("offered");
      const offers = await w.as("advisorOwner").call("GET", "/v1/advisors/me/offers");
      expect(offers.body.map((o: { offerId: string }) => o.offerId)).toContain(w.offerId);
      break;
    }
    case "POST /v1/requests/{id}/complete":
      expect((await adminApi.call("GET", `/v1/requests/${w.requestId}`)).body.status).toBe("assigned");
      break;
    case "POST /v1/requests/{id}/rating": {
      // The owner's rating is still possible (nobody rated in their place).
      expect((await w.as("clientOwner").call("POST", `/v1/requests/${w.requestId}/rating`, { stars: 3 })).status).toBe(201);
      break;
    }
    case "PUT /v1/advisors/me/presence":
      expect((await adminApi.call("GET", `/v1/advisors/${w.advisorOwnerId}`)).body.live?.presence ?? "offline").not.toBe("available");
      break;
    case "PUT /v1/branches/{id}/dispatch-policy":
      expect((await adminApi.call("GET", `/v1/branches/${w.branchId}/dispatch-policy`)).body.version).toBe(0);
      break;
    case "POST /v1/advisors": {
      // The licence number is still free: nothing was created.
      expect((await adminApi.call("POST", "/v1/advisors", advisorBody(w.branchId, w.tag, 9))).status).toBe(201);
      break;
    }
    case "POST /v1/advisors/{id}/offboard": {
      expect((await adminApi.call("GET", `/v1/advisors/${w.advisorOwnerId}`)).body.status).toBe("active");
      expect((await adminApi.call("GET", `/v1/requests/${w.requestId}`)).body.status).toBe("assigned");
      break;
    }
    case "PATCH /v1/licences/{kind}/{number}":
    case "POST /v1/licences/import":
      expect((await adminApi.call("GET", `/v1/advisors/${w.advisorOwnerId}`)).body.licences.map((l: { status: string }) => l.status)).toEqual(["active"]);
      break;
    case "POST /v1/requests": {
      const queue = await adminApi.call("GET", `/v1/branches/${w.branchId}/queue`);
      expect(queue.body.waiting).toEqual([]);
      break;
    }
    default:
      break;
  }
}

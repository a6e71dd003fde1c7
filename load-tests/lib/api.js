/**
 * The advisor-dispatch API as the load tests use it: one function per call, each tagged with a
 * fixed `name` so that ids in URLs do not turn every request into its own metric series. Names are
 * plain words because thresholds address them as `http_req_duration{name:accept_offer}`, where a
 * colon or brace inside the value would not parse.
 */
import { sleep } from "k6";
import http from "k6/http";
import { BASE_URL } from "./config.js";

/**
 * The server this VU talks to. VUs share no memory, so this is per VU: an advisor VU points it at
 * its own process once, a client iteration at its client's process (setServer). Setup and teardown
 * keep the first.
 */
let server = BASE_URL;

export function setServer(baseUrl) {
  server = baseUrl;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Accept answers that lose a race (409) are expected outcomes, not failed requests. */
const OK_OR_CONFLICT = http.expectedStatuses({ min: 200, max: 299 }, 409);

function params(token, name, extra = {}) {
  const headers = { ...JSON_HEADERS, ...(extra.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  return { ...extra, headers, tags: { name, ...(extra.tags || {}) } };
}

/** The parsed JSON body, or null (an HTML error page, an empty 502...). */
export function body(response) {
  try {
    return response.json();
  } catch (_) {
    return null;
  }
}

/** The API's error code (`{error: {code}}`), or `HTTP <status>` when the body is not the API's. */
export function errorCode(response) {
  const parsed = body(response);
  return parsed?.error?.code || `HTTP ${response.status}`;
}

/** Setup must not go on with half a world: stop with the server's own explanation. */
export function expectStatus(response, statuses, what) {
  if (!statuses.includes(response.status)) {
    throw new Error(`${what}: expected HTTP ${statuses.join(" or ")}, got ${response.status} ${String(response.body).slice(0, 500)}`);
  }
  return body(response);
}

/**
 * The API's contract for 503 (overloaded, or a dependency briefly away): the decision was not
 * taken, try again after Retry-After. Sends again up to `attempts` times in all, waiting what the
 * server asks (at most `maxWaitSeconds`). A client or advisor that gave up at the first 503 would
 * leave assigned requests nobody completes, and count a server's backpressure as lost work.
 */
function retrying(send, attempts = 3, maxWaitSeconds = 5) {
  let response = send();
  for (let attempt = 1; attempt < attempts && response.status === 503; attempt++) {
    sleep(Math.min(maxWaitSeconds, Number(response.headers["Retry-After"]) || 1));
    response = send();
  }
  return response;
}

const post = (path, payload, token, name, extra) =>
  http.post(`${server}${path}`, payload === undefined ? null : JSON.stringify(payload), params(token, name, extra));
const put = (path, payload, token, name, extra) => http.put(`${server}${path}`, JSON.stringify(payload), params(token, name, extra));
const get = (path, token, name, extra) => http.get(`${server}${path}`, params(token, name, extra));

// ---- directory and tokens (setup) ---------------------------------------------------------------

/**
 * Lifetime asked for the run's tokens: dev tokens last an hour by default, and a soak runs longer.
 * 24 h is the server's default JWT_MAX_TTL_SECONDS; a server with a lower maximum answers 400.
 */
const TOKEN_TTL_SECONDS = 24 * 3600;

/** POST /v1/dev/token: exists only with DEV_AUTH on, so a 404 here means the server is misconfigured. */
export function devToken(claims) {
  const response = post("/v1/dev/token", { ttlSeconds: TOKEN_TTL_SECONDS, ...claims }, null, "dev_token");
  if (response.status === 404) throw new Error("POST /v1/dev/token answered 404: start the server with DEV_AUTH=true (never in production)");
  return expectStatus(response, [200], `token for ${claims.role} ${claims.sub}`).token;
}

export const createBranch = (adminToken, branch) => expectStatus(post("/v1/branches", branch, adminToken, "create_branch"), [201], "create branch").id;
export const createAdvisor = (adminToken, advisor) =>
  expectStatus(post("/v1/advisors", advisor, adminToken, "create_advisor"), [201], `create advisor ${advisor.name}`).id;
export const createClient = (adminToken, client) =>
  expectStatus(post("/v1/clients", client, adminToken, "create_client"), [201], `create client ${client.name}`).id;

/** GET /v1/branches/:id/dispatch-policy: `{policy, version}`; a new branch shows the defaults at version 0. */
export function getDispatchPolicy(adminToken, branchId) {
  return expectStatus(get(`/v1/branches/${branchId}/dispatch-policy`, adminToken, "get_dispatch_policy"), [200], "get dispatch policy");
}

export function putDispatchPolicy(adminToken, branchId, policy) {
  return expectStatus(put(`/v1/branches/${branchId}/dispatch-policy`, policy, adminToken, "put_dispatch_policy"), [200], "put dispatch policy");
}

/** GET /v1/branches/:id/queue: waiting requests and the advisors available right now. */
export const branchQueue = (token, branchId) => get(`/v1/branches/${branchId}/queue`, token, "branch_queue");

// ---- advisors -----------------------------------------------------------------------------------

/** PUT /v1/advisors/me/presence: also the heartbeat that keeps the advisor eligible. */
export const setPresence = (token, status) => put("/v1/advisors/me/presence", { status }, token, "presence");

/** Retried once after a 503, waiting at most a second: the offer expires soon. */
export const acceptOffer = (token, offerId, extra = {}) =>
  retrying(() => post(`/v1/offers/${offerId}/accept`, undefined, token, "accept_offer", { responseCallback: OK_OR_CONFLICT, ...extra }), 2, 1);

/** 409 INVALID_STATE when the client cancelled meanwhile: a normal ending, not a failure. Retried after a 503. */
export const completeRequest = (token, requestId) =>
  retrying(() => post(`/v1/requests/${requestId}/complete`, undefined, token, "complete_request", { responseCallback: OK_OR_CONFLICT }));

// ---- clients ------------------------------------------------------------------------------------

/**
 * Always with an Idempotency-Key (one per call unless given), so a create retried after a 503 or a
 * lost answer never makes a second request; retried after a 503.
 */
export function createRequest(token, request, idempotencyKey) {
  const key = idempotencyKey || `k6-${__VU}-${__ITER}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return retrying(() => post("/v1/requests", request, token, "create_request", { headers: { "idempotency-key": key } }));
}

export const getRequest = (token, requestId) => get(`/v1/requests/${requestId}`, token, "get_request");

/** 409 INVALID_STATE when it ended meanwhile (completed or expired): the race a giving-up client runs. */
export const cancelRequest = (token, requestId) =>
  retrying(() => post(`/v1/requests/${requestId}/cancel`, undefined, token, "cancel_request", { responseCallback: OK_OR_CONFLICT }));

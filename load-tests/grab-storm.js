/**
 * Grab storm: N advisors grab the same broadcast request at the same instant, ROUNDS times. Exactly
 * one grab per round may win; the others must lose cleanly (409 ALREADY_TAKEN or OFFER_EXPIRED),
 * never win twice, never 5xx. Checked live by counters and afterwards by teardown(), which reads
 * every round's request back from the server.
 *
 *   k6 run load-tests/grab-storm.js
 *   k6 run -e ADVISORS=100 -e ROUNDS=20 load-tests/grab-storm.js
 *
 * Synchronised start: every advisor gets the same broadcast, whose expiresAt is the broadcast time
 * plus grabWindowSeconds. Each advisor VU fires at broadcast + FIRE_DELAY_MS, computed from that
 * shared value on the shared k6 clock, so all N accepts leave within a millisecond or so of each
 * other whatever the offers' delivery spread (FIRE_DELAY_MS must exceed it). A skew between the
 * server's clock and k6's only shifts the instant for everybody (and is clamped to the window).
 *
 * With BASE_URLS, advisor n connects and grabs through server n of the list and round r's client
 * creates through server r, so the N accepts race across processes for one request.
 */
import { check, sleep } from "k6";
import exec from "k6/execution";
import { Counter, Trend } from "k6/metrics";
import ws from "k6/ws";
import { acceptOffer, body, completeRequest, createRequest, errorCode, expectStatus, getRequest, setPresence, setServer } from "./lib/api.js";
import { envInt, envString, newRunId, seconds, serverFor, wsUrl } from "./lib/config.js";
import { buildWorld, waitForIdleAdvisors } from "./lib/world.js";

const N = envInt("ADVISORS", 20, { min: 2, max: 200 }); // grabTopK and maxOffers stop at 200
const ROUNDS = envInt("ROUNDS", 10, { min: 1, max: 500 });
const FIRE_DELAY_MS = envInt("FIRE_DELAY_MS", 2000, { min: 200, max: 20000 });
const ROUND_TIMEOUT_MS = envInt("ROUND_TIMEOUT_MS", 30000, { min: 5000 });
const LICENCE = envString("LICENCE", "securities_advisory");
const TALK_MS = envInt("TALK_MS", 2000, { min: 0, max: 60000 });
const GRAB_WINDOW_S = 30;

const grabWins = new Counter("grab_wins");
const grabLosses = new Counter("grab_losses");
/** Anything but a win or a clean loss: 5xx, 429, AT_CAPACITY, NOT_ELIGIBLE, socket errors. */
const grabErrors = new Counter("grab_errors");
const grabOffers = new Counter("grab_offers_received");
/** Rounds the client saw assigned to exactly one advisor with exactly one accepted offer. */
const roundsAssignedOnce = new Counter("rounds_assigned_once");
/** Rounds teardown() found assigned exactly once on the server afterwards. */
const roundsVerified = new Counter("rounds_verified");
/** How far after the common instant each accept actually left: the storm's tightness. */
const fireSkew = new Trend("grab_fire_skew", true);
/** The round's request createdAt → its broadcast's sentAt, from the offer message (server clock). */
const serverOfferLatency = new Trend("server_offer_latency", true);

export const options = {
  scenarios: {
    // One VU per advisor, online for all rounds.
    advisors: {
      executor: "per-vu-iterations",
      exec: "advisor",
      vus: N,
      iterations: 1,
      maxDuration: seconds(ROUNDS * (ROUND_TIMEOUT_MS + FIRE_DELAY_MS + 5000) + 60000),
    },
    // One VU plays the rounds in order: a round starts only when every advisor is idle again.
    rounds: {
      executor: "per-vu-iterations",
      exec: "round",
      vus: 1,
      iterations: ROUNDS,
      startTime: "5s",
      maxDuration: seconds(ROUNDS * (ROUND_TIMEOUT_MS + FIRE_DELAY_MS + 5000) + 30000),
    },
  },
  thresholds: {
    // The point of the test: one winner per round, no more, no fewer.
    grab_wins: [`count==${ROUNDS}`],
    grab_losses: [`count==${ROUNDS * (N - 1)}`],
    grab_errors: ["count==0"],
    // Every eligible advisor got every broadcast (grabTopK = N): otherwise the storm was smaller.
    grab_offers_received: [`count==${ROUNDS * N}`],
    rounds_assigned_once: [`count==${ROUNDS}`],
    rounds_verified: [`count==${ROUNDS}`],
    // The accepts leave together: within 50 ms of the instant at p95 (k6 timers, one machine).
    grab_fire_skew: ["p(95)<50"],
    // The broadcast leaves within a second of the request.
    server_offer_latency: ["p(95)<1000"],
    // Contended accepts: one Lua claim wins, the rest answer early; all should stay fast.
    "http_req_duration{name:accept_offer}": ["p(95)<500", "p(99)<1000"],
    http_req_failed: ["rate<0.01"],
    checks: ["rate==1"],
  },
  setupTimeout: "5m",
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

/** The request of round r: the same body and Idempotency-Key let teardown() find it again. */
const roundRequest = (data, r) => ({
  key: `k6-${data.runId}-round-${r}`,
  body: { topic: `k6 ${data.runId} grab round ${r}`, requiredLicence: data.licence, channel: "chat", mode: "grab", language: data.language },
});

export function setup() {
  return buildWorld({
    runId: newRunId(),
    script: "grab-storm",
    advisors: N,
    // One client per round, so the rounds and teardown's look-ups stay far below the rate limit.
    clients: ROUNDS,
    licence: LICENCE,
    // Two slots: a winner still completing the previous round stays eligible for the next broadcast.
    maxConcurrent: 2,
    policy: {
      // One broadcast to the whole branch; no push stage before it, so all N get the same offer.
      stages: [{ pool: "branch", mode: "grab", timeoutSeconds: GRAB_WINDOW_S + 30, maxOffers: N }],
      grabTopK: N,
      grabWindowSeconds: GRAB_WINDOW_S,
    },
  });
}

export function advisor(data) {
  const index = exec.scenario.iterationInTest % data.advisors.length;
  const me = data.advisors[index];
  setServer(serverFor(index));
  let handled = 0;
  const response = ws.connect(`${wsUrl(serverFor(index))}?token=${encodeURIComponent(me.token)}`, { tags: { name: "advisor_socket" } }, (socket) => {
    const heartbeat = () => setPresence(me.token, "available");
    const grab = (offer, fireAt) => {
      fireSkew.add(Date.now() - fireAt);
      const result = acceptOffer(me.token, offer.offerId);
      const code = result.status === 200 ? "won" : errorCode(result);
      if (result.status === 200) {
        grabWins.add(1);
        // A short conversation, then free the slot: the next round waits for every advisor to be
        // idle. Not at once, so that the request is still live while the slowest losers arrive.
        socket.setTimeout(() => check(completeRequest(me.token, offer.requestId), { "winner completes: 200": (r) => r.status === 200 }), TALK_MS);
      } else if (code === "ALREADY_TAKEN" || code === "OFFER_EXPIRED") {
        grabLosses.add(1, { code });
      } else {
        grabErrors.add(1, { code });
      }
      check(result, {
        "grab: won (200) or lost cleanly (409 ALREADY_TAKEN / OFFER_EXPIRED)": () => code === "won" || code === "ALREADY_TAKEN" || code === "OFFER_EXPIRED",
      });
      if (++handled >= ROUNDS) socket.setTimeout(() => socket.close(), TALK_MS + 1000);
    };

    socket.on("open", () => {
      heartbeat();
      socket.setInterval(heartbeat, 15000);
    });
    socket.on("message", (raw) => {
      const message = JSON.parse(raw);
      // offer.withdrawn (lost_race) is ignored on purpose: in a storm everybody clicks anyway.
      if (message.type !== "offer" || message.offer.kind !== "broadcast") return;
      grabOffers.add(1);
      const serverMs = Date.parse(message.offer.sentAt) - Date.parse(message.offer.requestCreatedAt);
      // A server that sends no times fails the run here, not with an empty trend (which k6 passes).
      if (Number.isFinite(serverMs)) serverOfferLatency.add(serverMs);
      else grabErrors.add(1, { code: "offer without server times" });
      const broadcastAt = Date.parse(message.offer.expiresAt) - GRAB_WINDOW_S * 1000;
      const now = Date.now();
      const latest = (GRAB_WINDOW_S - 1) * 1000;
      // The common instant; only if the server's clock runs far ahead of k6's is it pulled in to the
      // window's end (then the skew is measured against that).
      const fireAt = Math.min(broadcastAt + FIRE_DELAY_MS, now + latest);
      // An offer that arrives after the instant fires at once, and its lateness counts as skew.
      socket.setTimeout(() => grab(message.offer, fireAt), Math.max(0, fireAt - now));
    });
    socket.on("error", () => grabErrors.add(1, { code: "socket" }));
    // A round whose broadcast never came must not keep the VU forever.
    socket.setTimeout(() => socket.close(), ROUNDS * (ROUND_TIMEOUT_MS + FIRE_DELAY_MS + 5000) + 30000);
  });
  check(response, { "advisor socket upgraded (101)": (r) => r && r.status === 101 });
}

/** Did the request end up with one advisor through exactly one accepted offer out of N? */
function assignedOnce(view) {
  if (!view?.advisor || !(view.status === "assigned" || view.status === "completed")) return false;
  const events = view.timeline.map((e) => e.event);
  return events.filter((e) => e === "offer.accepted").length === 1 && events.filter((e) => e === "request.assigned").length === 1;
}

export function round(data) {
  const r = exec.scenario.iterationInTest;
  const client = data.clients[r];
  setServer(serverFor(r));
  // Every advisor must be eligible (available, a free slot), or the storm is smaller than N.
  if (!check(null, { "all advisors idle before the round": () => waitForIdleAdvisors(data.adminToken, data.branchId, N, ROUND_TIMEOUT_MS) })) return;
  const { key, body: request } = roundRequest(data, r);
  const created = createRequest(client.token, request, key);
  if (!check(created, { "round request created: 201": (res) => res.status === 201 })) return;
  const requestId = body(created).id;

  const deadline = Date.now() + FIRE_DELAY_MS + ROUND_TIMEOUT_MS;
  let view = null;
  while (Date.now() < deadline) {
    view = body(getRequest(client.token, requestId));
    if (view && view.status !== "pending" && view.status !== "offered") break;
    sleep(0.2);
  }
  const once = assignedOnce(view);
  if (once) roundsAssignedOnce.add(1);
  check(view, { "round assigned to exactly one advisor": () => once });
}

/**
 * After the storm, from the server's records: each round's request (found again by replaying its
 * Idempotency-Key, which answers 200 with the original id and creates nothing) must be assigned or
 * completed, to one advisor, with exactly one accepted offer. Throws when any round fails, so the
 * run fails even if someone loosens the thresholds.
 */
export function teardown(data) {
  const failures = [];
  for (let r = 0; r < ROUNDS; r++) {
    const { key, body: request } = roundRequest(data, r);
    const replay = createRequest(data.clients[r].token, request, key);
    if (replay.status !== 200) {
      failures.push(`round ${r}: the idempotent replay answered ${replay.status}, not 200 (was the round's request never created?)`);
      continue;
    }
    const requestId = expectStatus(replay, [200], `replay of round ${r}`).id;
    const view = body(getRequest(data.clients[r].token, requestId));
    if (assignedOnce(view)) roundsVerified.add(1);
    else
      failures.push(
        `round ${r}: request ${requestId} is ${view ? view.status : "unreadable"}, timeline ${view ? view.timeline.map((e) => e.event).join(",") : "-"}`,
      );
  }
  if (failures.length) throw new Error(`grab storm: ${failures.length} of ${ROUNDS} rounds not assigned exactly once:\n${failures.join("\n")}`);
}

/**
 * The dispatch flow both dispatch-flow.js and soak.js drive: advisors online over a WebSocket who
 * answer offers like people do, and clients who ask for an advisor and wait for one.
 *
 * Offer latency needs two VUs' clocks: the client VU knows when it sent the request, the advisor VU
 * when the offer arrived, and VUs share no memory. The client writes its send time into the request's
 * topic (`k6 <run> sent=<epoch ms>`), which the server copies into the offer message. All VUs of one
 * k6 process read the same machine clock, so the difference is exact. With distributed k6 (several
 * load generators) the generators' clocks must be NTP-synchronised, and their offset adds to the
 * measurement. It also counts k6's own queueing: the socket's handlers make blocking HTTP calls, so
 * an overloaded load generator reads offers late. The offer message therefore carries the server's
 * own times too (the request's createdAt and the offer's sentAt), reported as server_offer_latency:
 * what the server did, whatever k6 was doing. Time to assignment uses the server's createdAt and
 * assignedAt (one clock, no skew), read back by the client.
 */
import { check, sleep } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import ws from "k6/ws";
import { acceptOffer, body, cancelRequest, completeRequest, createRequest, errorCode, getRequest, setPresence, setServer } from "./api.js";
import { BASE_URL, randomBetween, wsUrl } from "./config.js";

// ---- metrics (names are referenced by the scripts' thresholds) ----------------------------------

/** Client sends POST /v1/requests → the offer arrives on an advisor's socket (k6 clock both ends). */
export const offerLatency = new Trend("offer_latency", true);
/** The request's createdAt → the offer's sentAt, both from the offer message (server clock). */
export const serverOfferLatency = new Trend("server_offer_latency", true);
/** Offers of this run whose message lacked the server's times (a server older than these scripts). */
export const offersUntimed = new Counter("offers_untimed");
/** The request's createdAt → assignedAt, both server timestamps. */
export const timeToAssignment = new Trend("time_to_assignment", true);
/** Share of requests assigned within MAX_WAIT: what a client experiences as "someone answered". */
export const answerRate = new Rate("answer_rate");
/** The same for requests created in grab mode (GRAB_SHARE): broadcasts that someone grabbed in time. */
export const grabAnswerRate = new Rate("grab_answer_rate");
/** Accepts of broadcast offers that won the request: the grab path did its work. */
export const grabsWon = new Counter("grabs_won");
/** A giving-up client's cancels, tagged by outcome: cancelled, already_ended (409) or failed. */
export const cancels = new Counter("cancels");
/** Cancels answered anything but 200 `{status: "cancelled"}` or 409 INVALID_STATE. */
export const cancelFailures = new Counter("cancel_failures");
/** Share of accepts that won: push offers should almost always be won; a low rate means expiry. */
export const acceptSuccess = new Rate("accept_success");
/** Share of created requests (201) among attempts: 429s and 5xx show up here. */
export const requestCreated = new Rate("request_created");
/** Share of heartbeats answered 200: a failing heartbeat makes the advisor ineligible in 45 s. */
export const heartbeatOk = new Rate("heartbeat_ok");
export const offersReceived = new Counter("offers_received");
export const offersWithdrawn = new Counter("offers_withdrawn");
export const conversationsCompleted = new Counter("conversations_completed");
export const socketErrors = new Counter("ws_errors");

const TOPIC_TIME = /sent=(\d+)/;

/**
 * One advisor's working session: connect, go available, heartbeat, answer offers after a think
 * time, talk, complete, and go offline at the end. Blocks for `sessionMs` (k6/ws runs the socket's
 * event loop inside ws.connect; HTTP calls made in its handlers are allowed and block that loop,
 * like a person busy clicking).
 */
export function advisorSession(advisor, { runId, sessionMs, heartbeatMs, thinkMs, talkMs, onHeartbeat, baseUrl = BASE_URL }) {
  // The advisor's socket and HTTP calls go to one process, as a phone's would stay with one.
  setServer(baseUrl);
  /** Offers waiting for their think time to pass: offerId → withdrawn?. Bounded by open offers. */
  const pending = new Map();
  /** Requests this advisor is talking about right now, so each is completed exactly once. */
  const talking = new Set();

  const response = ws.connect(`${wsUrl(baseUrl)}?token=${encodeURIComponent(advisor.token)}`, { tags: { name: "advisor_socket" } }, (socket) => {
    const heartbeat = () => {
      // A hook for scripts that retag the VU over time (soak.js tags metrics by time window).
      if (onHeartbeat) onHeartbeat();
      heartbeatOk.add(setPresence(advisor.token, "available").status === 200);
    };

    const complete = (requestId) => {
      const response = completeRequest(advisor.token, requestId);
      // 409 INVALID_STATE: the client cancelled during the conversation; the slot is free anyway.
      check(response, { "complete: 200, or 409 when the client cancelled": (r) => r.status === 200 || r.status === 409 });
      if (response.status === 200) conversationsCompleted.add(1);
      talking.delete(requestId);
    };

    // Accept's 200 and the request.assigned message both start the conversation; whichever comes first.
    const startConversation = (requestId) => {
      if (talking.has(requestId)) return;
      talking.add(requestId);
      socket.setTimeout(
        () => {
          if (talking.has(requestId)) complete(requestId);
        },
        randomBetween(talkMs[0], talkMs[1]),
      );
    };

    const answer = (offer) => {
      const withdrawn = pending.get(offer.offerId);
      pending.delete(offer.offerId);
      // The offer vanished from the advisor's screen while they were reading it: nothing to click.
      if (withdrawn !== false) return;
      const response = acceptOffer(advisor.token, offer.offerId);
      acceptSuccess.add(response.status === 200, { kind: offer.kind });
      if (response.status === 200 && offer.kind === "broadcast") grabsWon.add(1);
      if (response.status === 200) startConversation(offer.requestId);
      else check(response, { "accept: 200, or 409 for a lost race or an expired offer": (r) => r.status === 409 }, { code: errorCode(response) });
    };

    socket.on("open", () => {
      heartbeat();
      // The presence TTL is 45 s; a heartbeat every 15 s survives two lost ones.
      socket.setInterval(heartbeat, heartbeatMs);
      socket.setTimeout(() => {
        // End of shift: finish the conversations in progress so no capacity stays taken, then leave.
        for (const requestId of [...talking]) complete(requestId);
        setPresence(advisor.token, "offline");
        socket.close();
      }, sessionMs);
    });

    socket.on("message", (raw) => {
      let message;
      try {
        message = JSON.parse(raw);
      } catch (_) {
        socketErrors.add(1, { reason: "not json" });
        return;
      }
      if (message.type === "offer") {
        const offer = message.offer;
        offersReceived.add(1, { kind: offer.kind });
        const ours = offer.topic.indexOf(`k6 ${runId} `) === 0;
        const sent = ours ? TOPIC_TIME.exec(offer.topic) : null;
        if (sent) offerLatency.add(Date.now() - Number(sent[1]), { kind: offer.kind });
        const serverMs = Date.parse(offer.sentAt) - Date.parse(offer.requestCreatedAt);
        if (ours && Number.isFinite(serverMs)) serverOfferLatency.add(serverMs, { kind: offer.kind });
        // k6 passes a trend's thresholds when it has no samples: a server that sends no times
        // must fail the run by this count instead of passing on nothing.
        else if (ours) offersUntimed.add(1);
        pending.set(offer.offerId, false);
        socket.setTimeout(() => answer(offer), randomBetween(thinkMs[0], thinkMs[1]));
      } else if (message.type === "offer.withdrawn") {
        offersWithdrawn.add(1, { reason: String(message.reason) });
        if (pending.has(message.offerId)) pending.set(message.offerId, true);
      } else if (message.type === "request.assigned") {
        startConversation(message.requestId);
      }
    });

    socket.on("error", (error) => {
      socketErrors.add(1, { reason: "error" });
      console.warn(`advisor ${advisor.id}: socket error ${error?.error ? error.error() : error}`);
    });
  });
  check(response, { "advisor socket upgraded (101)": (r) => r && r.status === 101 });
}

const TERMINAL = ["completed", "cancelled", "expired"];

/**
 * One client asking for an advisor: create the request, poll it until it is assigned or the client's
 * patience (`maxWaitMs`) runs out, and then give up by cancelling. Returns what happened, for
 * scripts that derive more metrics from it.
 */
export function clientRequest(client, { runId, licence, language, maxWaitMs, pollMs, mode = "auto", baseUrl = BASE_URL }) {
  setServer(baseUrl);
  const sentAt = Date.now();
  const created = createRequest(client.token, { topic: `k6 ${runId} sent=${sentAt}`, requiredLicence: licence, channel: "chat", mode, language });
  // 200: a retry (after a 503) found the request its first attempt created (same Idempotency-Key).
  const ok = created.status === 201 || created.status === 200;
  requestCreated.add(ok, { code: ok ? String(created.status) : errorCode(created) });
  if (!check(created, { "create request: 201 (or 200 for a retried create)": () => ok })) return { created: false, createMs: created.timings.duration };
  const requestId = body(created).id;

  let view = null;
  while (Date.now() - sentAt < maxWaitMs) {
    sleep(pollMs / 1000);
    view = body(getRequest(client.token, requestId));
    if (view && (view.status === "assigned" || TERMINAL.includes(view.status))) break;
  }
  const assigned = !!view?.assignedAt;
  if (assigned) {
    const waitedMs = Date.parse(view.assignedAt) - Date.parse(view.createdAt);
    timeToAssignment.add(waitedMs);
    // Judged on the server's times, so polling granularity cannot turn a hit into a miss.
    answered(mode, waitedMs <= maxWaitMs);
    return { created: true, assigned: true, createMs: created.timings.duration, waitedMs };
  }
  answered(mode, false);
  if (!view || !TERMINAL.includes(view.status)) giveUp(client, requestId);
  return { created: true, assigned: false, createMs: created.timings.duration };
}

function answered(mode, ok) {
  answerRate.add(ok, { mode });
  if (mode === "grab") grabAnswerRate.add(ok);
}

/**
 * The client gives up and cancels. Cancel ends a request from pending, offered or assigned (an
 * assignment that raced the give-up is cancelled too, and its advisor's complete answers 409), so
 * the expected answers are 200 naming the request as cancelled, or 409 INVALID_STATE when it ended
 * meanwhile (completed or expired). Anything else, after the 503 retries, is a failure: the
 * request may be left open.
 */
function giveUp(client, requestId) {
  const response = cancelRequest(client.token, requestId);
  const answer = body(response);
  const outcome =
    response.status === 200 && answer?.id === requestId && answer?.status === "cancelled"
      ? "cancelled"
      : response.status === 409 && errorCode(response) === "INVALID_STATE"
        ? "already_ended"
        : "failed";
  cancels.add(1, { outcome });
  if (outcome === "failed") {
    cancelFailures.add(1, { code: errorCode(response) });
    console.warn(`cancel ${requestId}: ${response.status} ${String(response.body).slice(0, 200)}`);
  }
  check(response, { 'cancel: 200 {status: "cancelled"}, or 409 INVALID_STATE when it ended meanwhile': () => outcome !== "failed" });
}

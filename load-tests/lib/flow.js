/**
 * The dispatch flow both dispatch-flow.js and soak.js drive: advisors online over a WebSocket who
 * answer offers like people do, and clients who ask for an advisor and wait for one.
 *
 * Offer latency needs two VUs' clocks: the client VU knows when it sent the request, the advisor VU
 * when the offer arrived, and VUs share no memory. The client writes its send time into the request's
 * topic (`k6 <run> sent=<epoch ms>`), which the server copies into the offer message. All VUs of one
 * k6 process read the same machine clock, so the difference is exact. With distributed k6 (several
 * load generators) the generators' clocks must be NTP-synchronised, and their offset adds to the
 * measurement. Time to assignment uses the server's own createdAt and assignedAt instead (one clock,
 * no skew), read back by the client.
 */
import { check, sleep } from "k6";
import { Counter, Rate, Trend } from "k6/metrics";
import ws from "k6/ws";
import { acceptOffer, body, cancelRequest, completeRequest, createRequest, errorCode, getRequest, setPresence } from "./api.js";
import { randomBetween, WS_URL } from "./config.js";

// ---- metrics (names are referenced by the scripts' thresholds) ----------------------------------

/** Client sends POST /v1/requests → the offer arrives on an advisor's socket (k6 clock both ends). */
export const offerLatency = new Trend("offer_latency", true);
/** The request's createdAt → assignedAt, both server timestamps. */
export const timeToAssignment = new Trend("time_to_assignment", true);
/** Share of requests assigned within MAX_WAIT: what a client experiences as "someone answered". */
export const answerRate = new Rate("answer_rate");
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
export function advisorSession(advisor, { runId, sessionMs, heartbeatMs, thinkMs, talkMs, onHeartbeat }) {
  /** Offers waiting for their think time to pass: offerId → withdrawn?. Bounded by open offers. */
  const pending = new Map();
  /** Requests this advisor is talking about right now, so each is completed exactly once. */
  const talking = new Set();

  const response = ws.connect(`${WS_URL}?token=${encodeURIComponent(advisor.token)}`, { tags: { name: "advisor_socket" } }, (socket) => {
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
        const sent = offer.topic.indexOf(`k6 ${runId} `) === 0 ? TOPIC_TIME.exec(offer.topic) : null;
        if (sent) offerLatency.add(Date.now() - Number(sent[1]), { kind: offer.kind });
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
export function clientRequest(client, { runId, licence, language, maxWaitMs, pollMs }) {
  const sentAt = Date.now();
  const created = createRequest(client.token, { topic: `k6 ${runId} sent=${sentAt}`, requiredLicence: licence, channel: "chat", mode: "auto", language });
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
    answerRate.add(waitedMs <= maxWaitMs);
    return { created: true, assigned: true, createMs: created.timings.duration, waitedMs };
  }
  answerRate.add(false);
  // The client gives up; a cancel racing an assignment answers 409, which is fine.
  if (!view || !TERMINAL.includes(view.status)) cancelRequest(client.token, requestId);
  return { created: true, assigned: false, createMs: created.timings.duration };
}

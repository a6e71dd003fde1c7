/**
 * Settings and world shared by dispatch-flow.js and soak.js, which run the same flow at different
 * rates and lengths: each script passes its own defaults.
 */
import exec from "k6/execution";
import { envDuration, envInt, envNumber, envString, newRunId, seconds, serverFor } from "./config.js";
import { advisorSession, clientRequest } from "./flow.js";
import { buildWorld } from "./world.js";

export function flowConfig(defaults) {
  const think = [envInt("THINK_MIN_MS", 1000, { min: 0 }), envInt("THINK_MAX_MS", 4000, { min: 0 })];
  const talk = [envInt("TALK_MIN_MS", defaults.talkMinMs, { min: 0 }), envInt("TALK_MAX_MS", defaults.talkMaxMs, { min: 0 })];
  if (think[0] > think[1] || talk[0] > talk[1]) throw new Error("THINK_MIN_MS/TALK_MIN_MS must not exceed their MAX");
  const config = {
    advisors: envInt("ADVISORS", defaults.advisors, { min: 1, max: 1000 }),
    clients: envInt("CLIENTS", defaults.clients, { min: 1, max: 10000 }),
    rate: envInt("RATE", defaults.rate, { min: 1 }),
    timeUnit: envDuration("TIME_UNIT", defaults.timeUnit),
    duration: envDuration("DURATION", defaults.duration),
    warmup: envDuration("WARMUP", "10s"),
    maxWait: envDuration("MAX_WAIT", "30s"),
    pollMs: envInt("POLL_MS", 1000, { min: 100 }),
    heartbeatMs: envInt("HEARTBEAT_MS", 15000, { min: 1000, max: 44000 }),
    maxConcurrent: envInt("MAX_CONCURRENT", 2, { min: 1, max: 100 }),
    licence: envString("LICENCE", "securities_advisory"),
    grabShare: envNumber("GRAB_SHARE", 0.2, { min: 0, max: 1 }),
    think,
    talk,
  };
  // Advisors stay online until the last client has been answered and talked to.
  config.sessionMs = config.warmup.ms + config.duration.ms + config.maxWait.ms + talk[1] + 5000;
  return config;
}

/**
 * The two scenarios: advisors online for the whole run, clients arriving at a constant rate.
 * `typicalClientVUs`: pre-allocate only the VUs a typical iteration needs and let k6 add the rest up
 * to the worst case when iterations run long (the soak: its drift is judged per VU, so fewer VUs
 * each see more requests).
 */
export function flowScenarios(config, { typicalClientVUs = false } = {}) {
  const perSecond = config.rate / (config.timeUnit.ms / 1000);
  // An iteration lasts up to MAX_WAIT (polling), so this many VUs are busy at once at worst.
  const busy = Math.ceil(perSecond * (config.maxWait.ms / 1000 + 2));
  const preAllocated = typicalClientVUs ? typicalVUs(config) : Math.max(2, busy);
  return {
    advisors: {
      executor: "per-vu-iterations",
      exec: "advisor",
      vus: config.advisors,
      iterations: 1,
      maxDuration: seconds(config.sessionMs + 30000),
      gracefulStop: "30s",
    },
    clients: {
      executor: "constant-arrival-rate",
      exec: "client",
      rate: config.rate,
      timeUnit: config.timeUnit.text,
      duration: config.duration.text,
      preAllocatedVUs: preAllocated,
      maxVUs: Math.max(4, busy * 2, preAllocated),
      // Advisors connect and go available first, so the first requests find somebody.
      startTime: config.warmup.text,
      gracefulStop: seconds(config.maxWait.ms + 10000),
    },
  };
}

/**
 * Client VUs busy at once in a run that keeps up: an iteration typically lasts a create, the think
 * time and a poll (assignment), plus one VU of slack.
 */
export function typicalVUs(config) {
  const perSecond = config.rate / (config.timeUnit.ms / 1000);
  return Math.max(2, Math.ceil((perSecond * (config.think[1] + config.pollMs + 1000)) / 1000) + 1);
}

/**
 * Whether the client's iteration `i` asks in grab mode: exactly GRAB_SHARE of the requests, spread
 * evenly (i = 0, 1, 2... with share 0.25: every fourth), so even a short run has its share.
 */
export const grabsAt = (i, share) => Math.floor((i + 1) * share + 1e-9) > Math.floor(i * share + 1e-9);

/**
 * The funnel for the flow: push offers within the branch one after another, then one broadcast to
 * the branch, so both offer kinds are exercised. offerTtlSeconds (15) is well above the think time.
 * Grab-mode requests (GRAB_SHARE) turn the first stage into one broadcast to maxOffers advisors: 5,
 * because a broadcast to 3 was often left unwon for its whole 20 s window (measured: all 3 had
 * taken push offers during their think time and were at capacity when they clicked). Push offers
 * are unaffected: three of 15 s fill the 45 s stage.
 */
export const flowPolicy = () => ({
  stages: [
    { pool: "branch", mode: "dispatch", timeoutSeconds: 45, maxOffers: 5 },
    { pool: "branch", mode: "grab", timeoutSeconds: 30, maxOffers: 20 },
  ],
  offerTtlSeconds: 15,
  grabWindowSeconds: 20,
  maxWaitSeconds: 600,
});

export function setupFlow(config, script) {
  return buildWorld({
    runId: newRunId(),
    script,
    advisors: config.advisors,
    clients: config.clients,
    licence: config.licence,
    maxConcurrent: config.maxConcurrent,
    policy: flowPolicy(),
  });
}

/** The advisors scenario: VU n of the scenario is advisor n (one iteration each), on server n of BASE_URLS. */
export function runAdvisor(config, data, onHeartbeat) {
  const index = exec.scenario.iterationInTest % data.advisors.length;
  const advisor = data.advisors[index];
  advisorSession(advisor, {
    baseUrl: serverFor(index),
    runId: data.runId,
    sessionMs: config.sessionMs,
    heartbeatMs: config.heartbeatMs,
    thinkMs: config.think,
    talkMs: config.talk,
    onHeartbeat,
  });
}

/**
 * The clients scenario: iterations take the clients in turn, so each stays far below its rate limit;
 * client n talks to server n of BASE_URLS, and GRAB_SHARE of the requests ask in grab mode.
 */
export function runClient(config, data) {
  const iteration = exec.scenario.iterationInTest;
  const index = iteration % data.clients.length;
  return clientRequest(data.clients[index], {
    runId: data.runId,
    licence: data.licence,
    language: data.language,
    maxWaitMs: config.maxWait.ms,
    pollMs: config.pollMs,
    mode: grabsAt(iteration, config.grabShare) ? "grab" : "auto",
    baseUrl: serverFor(index),
  });
}

/** Thresholds shared by both scripts; each adds or tightens its own. */
export function flowThresholds(config) {
  return {
    // Offers reach a connected advisor well within a second of the request; p99 allows for GC and
    // the 250 ms deadline sweep.
    offer_latency: ["p(95)<1000", "p(99)<2500"],
    // Think time (1-4 s) dominates; a push offer taken at the first advisor lands within ~5 s.
    time_to_assignment: [`p(95)<${Math.min(10000, config.maxWait.ms)}`, `p(99)<${config.maxWait.ms}`],
    // The server's own create-to-offer time: the same limits, free of k6's queueing. A server
    // that sends no times fails offers_untimed rather than pass on an empty trend.
    server_offer_latency: ["p(95)<1000", "p(99)<2500"],
    offers_untimed: ["count==0"],
    answer_rate: ["rate>0.95"],
    // Push offers go to one advisor at a time, so a lost accept means expiry; a broadcast has one
    // winner by design, so its losses are not counted against the accepts.
    "accept_success{kind:push}": ["rate>0.9"],
    // A giving-up client's cancel answers 200 or 409 INVALID_STATE; anything else may leave the request open.
    cancel_failures: ["count==0"],
    ...grabThresholds(config),
    request_created: ["rate>0.99"],
    heartbeat_ok: ["rate>0.99"],
    ws_errors: ["count==0"],
    http_req_failed: ["rate<0.01"],
    "http_req_duration{name:create_request}": ["p(95)<500", "p(99)<1000"],
    "http_req_duration{name:accept_offer}": ["p(95)<500", "p(99)<1000"],
    checks: ["rate>0.99"],
  };
}

/**
 * With GRAB_SHARE > 0 the grab path must have worked: broadcasts were won (k6 passes an empty rate,
 * so the count is what fails a run where no grab ever won), and grab requests were answered in time.
 */
function grabThresholds(config) {
  if (config.grabShare === 0) return {};
  return { grabs_won: ["count>0"], grab_answer_rate: ["rate>0.95"] };
}

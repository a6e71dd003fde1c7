/**
 * Soak: the dispatch flow of dispatch-flow.js at a steady low rate for hours, to find what only time
 * shows: memory or connection leaks, requests that never leave the open states, latency that creeps
 * up. Watch the server's memory and GET /metrics alongside (README.md says how).
 *
 *   k6 run load-tests/soak.js                                  # 2 h at 12 requests a minute
 *   k6 run -e DURATION=8h -e WINDOW=1h load-tests/soak.js
 */
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Gauge, Trend } from "k6/metrics";
import { BASE_URL, envDuration, envNumber, seconds } from "./lib/config.js";
import { flowConfig, flowScenarios, flowThresholds, runAdvisor, runClient, setupFlow, typicalVUs } from "./lib/flowConfig.js";

const config = flowConfig({ advisors: 10, clients: 50, rate: 12, timeUnit: "1m", duration: "2h", talkMinMs: 5000, talkMaxMs: 20000 });
const window = envDuration("WINDOW", "30m");
/** Allowed growth of a VU's recent median latency over its own early median (2 = twice as slow). */
const driftMax = envNumber("DRIFT_MAX", 2, { min: 1 });
/** Samples per median: large enough to ignore single slow requests, small enough to follow a trend. */
const DRIFT_SAMPLES = 20;

/** Windows count from the clients' start (after WARMUP), when the measured traffic begins. */
const windows = Math.max(1, Math.ceil(config.duration.ms / window.ms));

/**
 * Drift: each client VU keeps the median of its first DRIFT_SAMPLES latencies as its baseline and,
 * from then on, reports median(last DRIFT_SAMPLES) / baseline. VUs share no memory, so the baseline
 * is per VU; every VU sees the same server, so their ratios tell the same story. A leak that slows
 * the server shows as ratios creeping above 1 long before absolute thresholds fail.
 */
const createDrift = new Trend("drift_create_request");
const assignDrift = new Trend("drift_time_to_assignment");
/**
 * Drift ratios computed, by metric. A VU computes its first after 2 × DRIFT_SAMPLES samples, and k6
 * passes a trend's thresholds when it has none, so a run too short to judge drift would pass on
 * nothing: this count is what fails it.
 */
const driftJudged = new Counter("drift_judged");

/**
 * The clients' VUs, and the run length that gives each more than 2 × DRIFT_SAMPLES requests (k6
 * hands iterations to its pre-allocated VUs in turn, so they share the requests evenly).
 */
const clientVUs = typicalVUs(config);
const perSecond = config.rate / (config.timeUnit.ms / 1000);
const minDurationMs = Math.ceil(((2 * DRIFT_SAMPLES + 1) * clientVUs) / perSecond) * 1000;

/** Growth of the server's open requests since the first sample: it must stay bounded. */
const openRequestsGrowth = new Gauge("server_open_requests_growth");
const scrapeDuration = new Trend("metrics_scrape_duration", true);

function tracker(metric, name) {
  const baseline = [];
  const recent = [];
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  return (value) => {
    if (baseline.length < DRIFT_SAMPLES) return baseline.push(value);
    recent.push(value);
    if (recent.length > DRIFT_SAMPLES) recent.shift();
    if (recent.length === DRIFT_SAMPLES) {
      metric.add(median(recent) / Math.max(1, median(baseline)));
      driftJudged.add(1, { metric: name });
    }
  };
}
const trackCreate = tracker(createDrift, "create_request");
const trackAssign = tracker(assignDrift, "time_to_assignment");

/** Tags everything the VU emits from now on with its time window (0, 1, ...), for per-window thresholds. */
function tagWindow() {
  const tags = exec.vu.metrics ? exec.vu.metrics.tags : exec.vu.tags;
  const sinceStart = Math.max(0, exec.instance.currentTestRunDuration - config.warmup.ms);
  tags.window = String(Math.min(windows - 1, Math.floor(sinceStart / window.ms)));
}

function windowThresholds() {
  const thresholds = {};
  // The same absolute limits in every window: the summary lists each window's p95, so drift is
  // visible at a glance, and a late window failing names when things went wrong.
  for (let w = 0; w < windows; w++) {
    thresholds[`http_req_duration{name:create_request,window:${w}}`] = ["p(95)<500"];
    thresholds[`time_to_assignment{window:${w}}`] = [`p(95)<${Math.min(10000, config.maxWait.ms)}`];
  }
  return thresholds;
}

const scenarios = flowScenarios(config, { typicalClientVUs: true });
scenarios.monitor = {
  executor: "constant-arrival-rate",
  exec: "monitor",
  rate: 1,
  timeUnit: "1m",
  duration: seconds(config.warmup.ms + config.duration.ms),
  preAllocatedVUs: 1,
  maxVUs: 1,
};

export const options = {
  scenarios,
  thresholds: {
    ...flowThresholds(config),
    // Hours of traffic: the error budget is tighter than in a short run, where one blip is 1%.
    http_req_failed: ["rate<0.005"],
    answer_rate: ["rate>0.98"],
    drift_create_request: [`p(95)<${driftMax}`],
    drift_time_to_assignment: [`p(95)<${driftMax}`],
    // Drift was judged at all: some VU saw more than 2 × DRIFT_SAMPLES requests (assigned, for the second).
    "drift_judged{metric:create_request}": ["count>0"],
    "drift_judged{metric:time_to_assignment}": ["count>0"],
    // Clients cancel at MAX_WAIT, so open requests stay near rate x (wait + talk); growth beyond
    // a generous bound means requests are stuck in the open states.
    server_open_requests_growth: [`value<${Math.ceil((config.rate / (config.timeUnit.ms / 1000)) * ((config.maxWait.ms + config.talk[1]) / 1000)) * 2 + 20}`],
    metrics_scrape_duration: ["p(95)<2000"],
    ...windowThresholds(),
  },
  setupTimeout: "5m",
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

export function setup() {
  if (config.duration.ms < minDurationMs) {
    console.warn(
      `DURATION=${config.duration.text} is too short to judge drift: ${clientVUs} client VUs at ${perSecond * 60} requests/min need ` +
        `at least ${seconds(minDurationMs)} for ${2 * DRIFT_SAMPLES + 1} requests each; drift_judged will fail`,
    );
  }
  return setupFlow(config, "soak");
}

export function advisor(data) {
  tagWindow();
  runAdvisor(config, data, tagWindow);
}

export function client(data) {
  tagWindow();
  const outcome = runClient(config, data);
  trackCreate(outcome.createMs);
  if (outcome.assigned) trackAssign(outcome.waitedMs);
}

let firstOpenRequests = null;

/** Once a minute: scrape /metrics as Prometheus would, and follow the server's open requests. */
export function monitor(data) {
  const response = http.get(`${BASE_URL}/metrics`, { headers: { authorization: `Bearer ${data.adminToken}` }, tags: { name: "metrics" } });
  scrapeDuration.add(response.timings.duration);
  if (response.status !== 200) return;
  let open = 0;
  for (const line of String(response.body).split("\n")) {
    if (line.indexOf("advisor_dispatch_open_requests{") === 0) open += Number(line.slice(line.lastIndexOf(" ") + 1)) || 0;
  }
  if (firstOpenRequests === null) firstOpenRequests = open;
  openRequestsGrowth.add(open - firstOpenRequests);
}

/**
 * Dispatch flow under load: advisors online over WebSockets answer offers after a human think time,
 * heartbeat, talk and complete; clients create requests at a constant arrival rate and wait for an
 * advisor. See README.md for the settings and what each threshold means.
 *
 *   k6 run load-tests/dispatch-flow.js
 *   k6 run -e BASE_URL=http://localhost:3999 -e RATE=2 -e ADVISORS=40 load-tests/dispatch-flow.js
 */
import { flowConfig, flowScenarios, flowThresholds, runAdvisor, runClient, setupFlow } from "./lib/flowConfig.js";

const config = flowConfig({ advisors: 20, clients: 50, rate: 1, timeUnit: "1s", duration: "2m", talkMinMs: 3000, talkMaxMs: 10000 });

export const options = {
  scenarios: flowScenarios(config),
  thresholds: flowThresholds(config),
  // The setup creates N advisors and clients one call at a time.
  setupTimeout: "5m",
  summaryTrendStats: ["avg", "med", "p(95)", "p(99)", "max"],
};

export function setup() {
  return setupFlow(config, "dispatch-flow");
}

export function advisor(data) {
  runAdvisor(config, data);
}

export function client(data) {
  runClient(config, data);
}

/**
 * simulation: how long the day simulator (simulation/) takes for one simulated day of about 10,000
 * requests and 300 advisors under one policy (the shipped default), from a fresh embedded record
 * (migrations included) to the branch KPIs; target under 60 s (issue 16). --quick: a tenth of both.
 * Runs in-process on PGlite, like `npm run simulate`: no Redis or PostgreSQL server is used.
 */
import type { BenchSuite, Figure } from "../lib/harness.ts";
import { runPolicy } from "../../simulation/compare.ts";
import { policiesOf } from "../../simulation/policies.ts";
import { buildPopulation } from "../../simulation/population.ts";
import { parseScenario } from "../../simulation/scenario.ts";

const TARGET_MS = 60_000;
const OPEN_HOURS = 13;

/** 3 regions of `branches` branches of 10 advisors on 08:00-21:00, `requests` spread evenly over those hours. */
function benchScenario(branches: number, requests: number) {
  const perHour = requests / (3 * branches) / OPEN_HOURS;
  const branch = (r: number, b: number) => ({
    name: `r${r}b${b}`,
    advisors: [
      { count: 6, licences: ["fund_sales"], shifts: [{ start: 8, end: 21 }] },
      { count: 4, licences: ["fund_sales", "securities_advisory"], shifts: [{ start: 8, end: 21 }] },
    ],
    demand: {
      perHour: Array.from({ length: 24 }, (_, h) => (h >= 8 && h < 8 + OPEN_HOURS ? perHour : 0)),
      licences: [
        { value: "fund_sales", weight: 3 },
        { value: "securities_advisory", weight: 1 },
      ],
      patience: { kind: "lognormal", medianSeconds: 150, sigma: 0.6 },
      dedicatedShare: 0.1,
    },
  });
  const parsed = parseScenario({
    name: "bench",
    behaviour: {
      acceptProbability: 0.75,
      acceptByLoad: [1, 0.8, 0.5],
      thinkTime: { kind: "lognormal", medianSeconds: 8, sigma: 0.7 },
      handleTime: { kind: "lognormal", medianSeconds: 420, sigma: 0.5 },
      noShowRate: 0.05,
      incentiveResponse: { acceptUplift: 0.15, thinkTimeCut: 0.25 },
    },
    regions: [0, 1, 2].map((r) => ({ name: `region${r}`, branches: Array.from({ length: branches }, (_, b) => branch(r, b)) })),
    policies: ["default"],
  });
  if (!parsed.ok) throw new Error(`simulation bench scenario: ${parsed.problems.join("; ")}`);
  return parsed.scenario;
}

export const simulationSuite: BenchSuite = {
  name: "simulation",
  async run(context) {
    const scenario = benchScenario(context.quick ? 1 : 10, context.quick ? 1_000 : 10_000);
    const population = buildPopulation(scenario, 1);
    const put = policiesOf(scenario)[0]!;
    context.log(`simulation: ${population.arrivals.length} requests, ${population.advisors.length} advisors, policy ${put.name}`);
    const started = performance.now();
    const run = await runPolicy(population, put, 1, (done) => context.log(`simulation: ${Math.round(done * 100)}%`));
    const ms = performance.now() - started;
    const figure: Figure = {
      kind: "figure",
      measure: `simulation: one day, ${population.arrivals.length.toLocaleString("en")} requests, ${population.advisors.length} advisors (one policy)`,
      figure: Math.round(ms),
      unit: "ms",
      atMost: TARGET_MS,
      targetLabel: "issue 16",
      details: { summary: run.summary, counters: run.counters },
    };
    return [figure];
  },
};

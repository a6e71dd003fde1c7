/**
 * A scenario over several seeds: each seed is one full runScenario (every policy on the same
 * arrivals and advisors), and the aggregate keeps, per policy, each seed's answer rate and median
 * time to accept, their mean and spread, and the paired difference against the shipped default.
 * One seed's figures differ across policies by a few requests, which is noise; only the spread over
 * seeds says whether a difference is the policy's.
 */
import { runScenario, type Progress, type SimulationResult } from "./compare.ts";
import type { Scenario } from "./scenario.ts";
import { pairedDifference, spread, type PairedDifference, type Spread } from "./stats.ts";
import { verdictOf, type Verdict } from "./verdict.ts";

/** The policy every other one is compared with: the shipped default funnel, incentives on. */
export const BASELINE = "default";

export interface SeedFigures {
  seed: number;
  requests: number;
  answerRate: number | null;
  /** The summary's median time to accept (ms): branch medians weighted by assigned requests. */
  timeToAcceptP50Ms: number | null;
}

export interface PolicyAcrossSeeds {
  name: string;
  answerRate: Spread;
  timeToAcceptP50Ms: Spread;
  /** policy − default, seed by seed; null for the default itself or when the scenario has no default. */
  vsDefault: { answerRate: PairedDifference; timeToAcceptP50Ms: PairedDifference } | null;
  /** The default's own dispatch policy and incentives under another name (verdict.ts). */
  sameAsDefault: boolean;
  seeds: SeedFigures[];
}

export interface SeedsResult {
  scenario: string;
  date: string;
  seeds: number[];
  baseline: string | null;
  policies: PolicyAcrossSeeds[];
  verdict: Verdict | null;
}

/** Per-seed figures of each policy, in the scenario's policy order. */
export function figuresOf(results: readonly SimulationResult[]): Map<string, SeedFigures[]> {
  const byPolicy = new Map<string, SeedFigures[]>();
  for (const result of results) {
    for (const run of result.policies) {
      const figures = byPolicy.get(run.name) ?? [];
      figures.push({ seed: result.seed, requests: run.summary.created, answerRate: run.summary.answerRate, timeToAcceptP50Ms: run.summary.timeToAcceptP50Ms });
      byPolicy.set(run.name, figures);
    }
  }
  return byPolicy;
}

const present = (values: Array<number | null>) => values.filter((v): v is number => v !== null);

/** Aggregates seed results already run (all of one scenario, in seed order). */
export function aggregate(results: readonly SimulationResult[]): SeedsResult {
  const first = results[0];
  if (!first) throw new Error("aggregate needs at least one seed's result");
  const byPolicy = figuresOf(results);
  const base = byPolicy.get(BASELINE) ?? null;
  const setup = (run: SimulationResult["policies"][number]) => JSON.stringify({ policy: run.policy, incentives: run.incentives });
  const baseRun = first.policies.find((run) => run.name === BASELINE);
  const sameAsBase = new Set(first.policies.filter((run) => run.name !== BASELINE && baseRun && setup(run) === setup(baseRun)).map((run) => run.name));
  const policies: PolicyAcrossSeeds[] = [...byPolicy].map(([name, seeds]) => ({
    name,
    answerRate: spread(present(seeds.map((s) => s.answerRate))),
    timeToAcceptP50Ms: spread(present(seeds.map((s) => s.timeToAcceptP50Ms))),
    vsDefault:
      base && name !== BASELINE
        ? {
            answerRate: pairedDifference(
              seeds.map((s) => s.answerRate),
              base.map((s) => s.answerRate),
            ),
            timeToAcceptP50Ms: pairedDifference(
              seeds.map((s) => s.timeToAcceptP50Ms),
              base.map((s) => s.timeToAcceptP50Ms),
            ),
          }
        : null,
    sameAsDefault: sameAsBase.has(name),
    seeds,
  }));
  return {
    scenario: first.scenario,
    date: first.date,
    seeds: results.map((r) => r.seed),
    baseline: base ? BASELINE : null,
    policies,
    verdict: base ? verdictOf(policies) : null,
  };
}

export type SeedProgress = (seed: number, index: number, of: number, policy: string, policyIndex: number, policies: number, done: number) => void;

/** Runs the scenario for each seed in turn (one at a time: a run holds its own embedded record) and aggregates. */
export async function runSeeds(scenario: Scenario, seeds: readonly number[], onProgress: SeedProgress = () => {}): Promise<SeedsResult> {
  const results: SimulationResult[] = [];
  for (const [index, seed] of seeds.entries()) {
    const progress: Progress = (policy, policyIndex, of, done) => onProgress(seed, index, seeds.length, policy, policyIndex, of, done);
    results.push(await runScenario(scenario, seed, progress));
  }
  return aggregate(results);
}

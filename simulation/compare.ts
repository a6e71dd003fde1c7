/**
 * Runs a scenario's day once per policy, each on a fresh embedded record (PGlite, migrated as the
 * embedded server migrates it), and reports the branch KPIs of each run as GET
 * /v1/branches/:id/kpis computes them (reporting/kpis.ts branchKpis, over the rows the engine wrote).
 */
import { setIdEntropy } from "../core/ids.ts";
import { openPglite } from "../platform/database.ts";
import { applyMigrations } from "../prisma/tools/migrations.ts";
import { branchKpis, type BranchKpis } from "../reporting/kpis.ts";
import { DAY_MS, simulateDay, type DayCounters } from "./day.ts";
import { activateRules } from "./incentives.ts";
import { policiesOf, type PolicyUnderTest } from "./policies.ts";
import { buildPopulation, type Population } from "./population.ts";
import { writePopulation } from "./records.ts";
import { createSampler, deriveSeed } from "./sampling.ts";
import type { Scenario } from "./scenario.ts";
import { summarise, type PolicySummary } from "./summary.ts";

export interface PolicyRun {
  name: string;
  incentives: boolean;
  policy: PolicyUnderTest["policy"];
  summary: PolicySummary;
  counters: DayCounters;
  branches: Array<{ name: string; region: string; kpis: BranchKpis }>;
}

export interface SimulationResult {
  scenario: string;
  seed: number;
  date: string;
  population: { regions: number; branches: number; advisors: number; noShows: number; requests: number };
  policies: PolicyRun[];
}

export type Progress = (policy: string, index: number, of: number, done: number) => void;

export async function runScenario(scenario: Scenario, seed: number, onProgress: Progress = () => {}): Promise<SimulationResult> {
  const population = buildPopulation(scenario, seed);
  const policies = policiesOf(scenario);
  const runs: PolicyRun[] = [];
  for (const [index, put] of policies.entries()) {
    runs.push(await runPolicy(population, put, seed, (done) => onProgress(put.name, index, policies.length, done)));
  }
  return {
    scenario: scenario.name,
    seed,
    date: scenario.date,
    population: {
      regions: scenario.regions.length,
      branches: population.branches.length,
      advisors: population.advisors.length,
      noShows: population.advisors.filter((a) => a.noShow).length,
      requests: population.arrivals.length,
    },
    policies: runs,
  };
}

/** One policy's day on its own record; every id's random part seeded, so the record is the same every run. */
export async function runPolicy(population: Population, put: PolicyUnderTest, seed: number, onProgress: (done: number) => void): Promise<PolicyRun> {
  const ids = createSampler(deriveSeed(seed, `ids:${put.name}`));
  setIdEntropy((buffer) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = Math.floor(ids.next() * 256);
  });
  const database = await openPglite();
  try {
    await applyMigrations(database.migrationAdapter);
    await writePopulation(database.prisma, population, put.policy);
    if (put.ruleSet) {
      await activateRules(
        database.prisma,
        population.branches.map((b) => b.id),
        put.ruleSet,
        population.dayStart,
      );
    }
    const counters = await simulateDay(database.prisma, population, put, seed, onProgress);
    const from = new Date(population.dayStart);
    const to = new Date(population.dayStart + DAY_MS);
    const branches = [];
    for (const branch of population.branches) {
      const result = await branchKpis(database.prisma, { branchId: branch.id, from, to, bucket: "hour" });
      if (!result.ok) throw new Error(`KPIs of ${branch.name}: ${result.reason}`);
      branches.push({ name: branch.name, region: branch.region, kpis: result.kpis });
    }
    return { name: put.name, incentives: put.incentives, policy: put.policy, summary: summarise(branches.map((b) => b.kpis)), counters, branches };
  } finally {
    setIdEntropy(null);
    await database.close();
  }
}

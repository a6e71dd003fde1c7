/**
 * Fidelity: the simulator's storage choices (the in-memory store, decisions recorded in batches,
 * two reads from memory, a presence TTL longer than the day) change no KPI. A simulated day's
 * script (every action that took effect, with its time) replayed on the server's own matching
 * wiring (tests/simulation/support/replay.ts) records the same KPIs, bucket by bucket, branch by
 * branch, and each action meets the same state there (the replay fails on any divergence).
 */
import { describe, expect, it } from "vitest";
import { openPglite } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { branchKpis, type BranchKpis } from "../../reporting/kpis.ts";
import type { TraceEntry } from "../../simulation/behaviour.ts";
import { DAY_MS, simulateDay } from "../../simulation/day.ts";
import { policiesOf } from "../../simulation/policies.ts";
import { buildPopulation } from "../../simulation/population.ts";
import { writePopulation } from "../../simulation/records.ts";
import { parseScenario } from "../../simulation/scenario.ts";
import { replayOnServerWiring } from "./support/replay.ts";

const hours = (active: Record<number, number>) => Array.from({ length: 24 }, (_, h) => active[h] ?? 0);

const branch = (name: string, advisors: number, perHour: number) => ({
  name,
  advisors: [{ count: advisors, licences: ["fund_sales", "securities_advisory"], maxConcurrent: 2, shifts: [{ start: 9, end: 11 }] }],
  demand: {
    perHour: hours({ 9: perHour, 10: perHour }),
    licences: [
      { value: "fund_sales", weight: 3 },
      { value: "securities_advisory", weight: 1 },
    ],
    patience: { kind: "lognormal", medianSeconds: 300, sigma: 0.5 },
    dedicatedShare: 0.2,
  },
});

const parsed = parseScenario({
  name: "fidelity",
  behaviour: {
    acceptProbability: 0.7,
    acceptByLoad: [1, 0.6],
    declineShare: 0.5,
    thinkTime: { kind: "lognormal", medianSeconds: 10, sigma: 0.8 },
    handleTime: { kind: "lognormal", medianSeconds: 400, sigma: 0.4 },
    incentiveResponse: { acceptUplift: 0.1, thinkTimeCut: 0.2 },
  },
  regions: [
    { name: "north", branches: [branch("busy", 2, 50), branch("quiet", 2, 4)] },
    { name: "south", branches: [branch("far", 2, 4)] },
  ],
  policies: ["default"],
});

const roundFloats = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (_, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v));

async function simulateWithTrace(seed: number): Promise<{ kpis: BranchKpis[]; trace: TraceEntry[] }> {
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  const population = buildPopulation(parsed.scenario, seed);
  const put = policiesOf(parsed.scenario)[0]!;
  const database = await openPglite();
  const trace: TraceEntry[] = [];
  try {
    await applyMigrations(database.migrationAdapter);
    await writePopulation(database.prisma, population, put.policy);
    await simulateDay(database.prisma, population, put, seed, undefined, (entry) => trace.push(entry));
    const kpis: BranchKpis[] = [];
    for (const b of population.branches) {
      const result = await branchKpis(database.prisma, {
        branchId: b.id,
        from: new Date(population.dayStart),
        to: new Date(population.dayStart + DAY_MS),
        bucket: "hour",
      });
      if (!result.ok) throw new Error(result.reason);
      kpis.push(result.kpis);
    }
    return { kpis, trace };
  } finally {
    await database.close();
  }
}

describe("simulator fidelity", () => {
  it("a simulated day's script replayed on the server's matching wiring records the same KPIs", async () => {
    if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
    const seed = 5;
    const simulated = await simulateWithTrace(seed);
    // The script is not trivial: offers declined, requests answered beyond their branch, clients giving up.
    const total = (pick: (k: BranchKpis["total"]) => number) => simulated.kpis.reduce((s, k) => s + pick(k.total), 0);
    expect(total((k) => k.created)).toBeGreaterThan(30);
    expect(total((k) => Math.round((k.declineRate ?? 0) * k.offers))).toBeGreaterThan(0);
    expect(total((k) => k.answeredByStage.region + k.answeredByStage.national + k.answeredByStage.queue)).toBeGreaterThan(0);
    expect(simulated.trace.some((e) => e.action === "cancel")).toBe(true);

    const population = buildPopulation(parsed.scenario, seed);
    const replayed = await replayOnServerWiring(population, policiesOf(parsed.scenario)[0]!, simulated.trace);
    // Equal to 12 significant digits: utilisation sums float seconds in row order, which follows the
    // presence rows' ids (random in the replay), so its last bit may differ.
    expect(roundFloats(replayed)).toEqual(roundFloats(simulated.kpis));
    expect(replayed.map((k) => k.total.utilisation)).not.toContain(null);
  });
});

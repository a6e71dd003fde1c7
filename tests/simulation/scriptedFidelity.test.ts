/**
 * Fidelity with a fixed script (issue 16): the KPI test's scripted day (support/kpiScript.ts) played
 * by the simulator (simulateDay with ScriptedBehaviour, on its in-memory store, batch recorder and
 * PGlite record) and by the real server (support/scriptOnServer.ts: HTTP routes, tokens, the
 * journal and its persister, a 45 s presence TTL kept by heartbeats) records the same KPIs for every
 * branch, bucket by bucket. Hand-worked figures pin the day itself, so two sides going wrong alike
 * still fail.
 */
import { describe, expect, it } from "vitest";
import { openPglite } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { branchKpis, type BranchKpis } from "../../reporting/kpis.ts";
import { DAY_MS, simulateDay } from "../../simulation/day.ts";
import type { PolicyUnderTest } from "../../simulation/policies.ts";
import { writePopulation } from "../../simulation/records.ts";
import { populationOf, type DayScript } from "../../simulation/script.ts";
import { at, BRANCH, KPI_POLICY, KPI_SCRIPT } from "./support/kpiScript.ts";
import { playScriptOnServer } from "./support/scriptOnServer.ts";

const PUT: PolicyUnderTest = { name: "kpi-day", policy: KPI_POLICY, incentives: false, ruleSet: null };

/** Equal to 12 significant digits (utilisation sums float seconds in row order), as fidelity.test.ts. */
const roundFloats = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (_, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(12)) : v));

async function simulate(script: DayScript): Promise<BranchKpis[]> {
  const population = populationOf(script);
  const database = await openPglite();
  try {
    await applyMigrations(database.migrationAdapter);
    await writePopulation(database.prisma, population, PUT.policy);
    await simulateDay(database.prisma, population, PUT, 0, undefined, undefined, script);
    const kpis: BranchKpis[] = [];
    for (const branch of script.branches) {
      const result = await branchKpis(database.prisma, {
        branchId: branch.id,
        from: new Date(script.dayStart),
        to: new Date(script.dayStart + DAY_MS),
        bucket: "hour",
      });
      if (!result.ok) throw new Error(result.reason);
      kpis.push(result.kpis);
    }
    return kpis;
  } finally {
    await database.close();
  }
}

/** percentile_cont's interpolation: lo + (hi - lo) * fraction. */
const lerp = (lo: number, hi: number, fraction: number) => lo + (hi - lo) * fraction;
const bucketAt = (kpis: BranchKpis, hhmm: string) => kpis.buckets.find((b) => b.start === new Date(at(hhmm)).toISOString())!;

describe("simulator fidelity on a scripted day", () => {
  it("the KPI test's scripted day records the same KPIs in the simulator and on the real server", async () => {
    const [simulated, served] = [await simulate(KPI_SCRIPT), await playScriptOnServer(KPI_SCRIPT, PUT.policy)];
    expect(roundFloats(served.kpis)).toEqual(roundFloats(simulated));
    expect(served.calls).toMatchObject({ create: 10, accept: 7, decline: 2, complete: 5, rate: 4, cancel: 3 });

    // The day as worked by hand (support/kpiScript.ts): the fates of scriptedDay.ts's ten requests.
    const day = simulated.find((k) => k.branchId === BRANCH)!;
    expect(day.buckets).toHaveLength(24);
    expect(day.total).toMatchObject({
      created: 10,
      assigned: 7,
      completed: 5,
      abandoned: 2,
      callbacks: 1,
      answerRate: 0.7,
      abandonmentRate: 0.2,
      answeredByStage: { dedicated: 2, branch: 2, region: 1, national: 1, queue: 1 },
      offers: 13,
      declineRate: 2 / 13,
      timeoutRate: 3 / 13,
      meanRating: 3.5,
      pointsPerCompleted: 0,
      // Accepts after 3, 5, 10, 15, 15, 40, 100 s; first offers at once but r6's (5 s), of nine.
      timeToAcceptMs: { p50: 15_000, p90: lerp(40_000, 100_000, 0.9 * 6 - 5) },
      timeToFirstOfferMs: { p50: 0, p90: lerp(0, 5_000, 0.9 * 8 - 7) },
    });
    expect(bucketAt(day, "09:00")).toMatchObject({ created: 3, assigned: 3, completed: 3, offers: 5, declineRate: 0.2, timeoutRate: 0.2, meanRating: 4.5 });
    expect(bucketAt(day, "10:00").answeredByStage).toEqual({ dedicated: 0, branch: 0, region: 1, national: 1, queue: 0 });
    expect(bucketAt(day, "11:00")).toMatchObject({ assigned: 2, completed: 1, abandoned: 0, answeredByStage: { dedicated: 1, queue: 1 }, meanRating: 2 });
    expect(bucketAt(day, "12:00")).toMatchObject({ created: 2, abandoned: 2, offers: 1 });
    expect(bucketAt(day, "13:00")).toMatchObject({ created: 1, callbacks: 1, offers: 2, declineRate: 0.5, timeoutRate: 0.5 });
    expect(day.total.utilisation).toBeGreaterThan(0);
  }, 60_000);
});

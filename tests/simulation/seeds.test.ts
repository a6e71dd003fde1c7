/**
 * The comparison over seeds (simulation/seeds.ts, stats.ts, verdict.ts): the statistics on fixed
 * numbers with known answers, the rule on constructed intervals, the aggregation of a tiny
 * scenario over 3 seeds against each seed's own run, and the command line: `--seed N` still writes
 * exactly the single-seed result, `--seeds N` writes the aggregate, the same on every run.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runScenario } from "../../simulation/compare.ts";
import { parseScenario, type Scenario } from "../../simulation/scenario.ts";
import { aggregate } from "../../simulation/seeds.ts";
import { formatSeedsTable } from "../../simulation/seedsTable.ts";
import { type PairedDifference, pairedDifference, spread, tCritical95 } from "../../simulation/stats.ts";
import { verdictOf } from "../../simulation/verdict.ts";

const run = promisify(execFile);
const root = path.join(import.meta.dirname, "../..");
const hours = (active: Record<number, number>) => Array.from({ length: 24 }, (_, h) => active[h] ?? 0);

const RAW = {
  name: "tiny",
  behaviour: {
    acceptProbability: 0.7,
    declineShare: 0.5,
    thinkTime: { kind: "lognormal", medianSeconds: 8, sigma: 0.8 },
    handleTime: { kind: "lognormal", medianSeconds: 300, sigma: 0.5 },
    incentiveResponse: { acceptUplift: 0.2, thinkTimeCut: 0.2 },
  },
  regions: [
    {
      name: "north",
      branches: ["leeds", "york"].map((name) => ({
        name,
        advisors: [{ count: 2, licences: ["fund_sales"], maxConcurrent: 2, shifts: [{ start: 9, end: 11 }] }],
        demand: { perHour: hours({ 9: 12 }), licences: [{ value: "fund_sales", weight: 1 }], patience: { kind: "fixed", seconds: 120 } },
      })),
    },
  ],
  policies: ["default", "pure-dispatch"],
};

function tiny(): Scenario {
  const parsed = parseScenario(RAW);
  if (!parsed.ok) throw new Error(parsed.problems.join("\n"));
  return parsed.scenario;
}

const blank: PairedDifference = { n: 0, mean: null, sd: null, low: null, high: null };
const diff = (low: number, high: number): PairedDifference => ({ n: 5, mean: (low + high) / 2, sd: 1, low, high });

describe("statistics over seeds", () => {
  it("gives the mean, the sample standard deviation and the paired t interval of fixed numbers", () => {
    expect(spread([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ n: 8, mean: 5, sd: Math.sqrt(32 / 7) });
    expect(spread([3])).toEqual({ n: 1, mean: 3, sd: null });
    expect(spread([])).toEqual({ n: 0, mean: null, sd: null });
    // Differences 1, 2, 3, 6: mean 3, sd √(14/3), t(0.975, 3) = 3.182, half-width 3.182 · sd / 2.
    const d = pairedDifference([11, 12, 13, 16], [10, 10, 10, 10]);
    expect(d.n).toBe(4);
    expect(d.mean).toBe(3);
    expect(d.sd).toBeCloseTo(2.1602469, 6);
    expect(d.low).toBeCloseTo(-0.436953, 5);
    expect(d.high).toBeCloseTo(6.436953, 5);
    // A seed where either side has nothing (null) is left out of the pairs.
    expect(pairedDifference([1, null, 3], [0, 5, 1])).toMatchObject({ n: 2, mean: 1.5 });
    expect(pairedDifference([1], [0])).toEqual({ n: 1, mean: 1, sd: null, low: null, high: null });
  });

  it("takes t from the table to 30 degrees of freedom and matches it to 3 decimals beyond", () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(9)).toBe(2.262);
    // Reference values: Student's t quantile 0.975 (scipy.stats.t.ppf).
    expect(tCritical95(31)).toBeCloseTo(2.03951, 3);
    expect(tCritical95(60)).toBeCloseTo(2.0003, 3);
    expect(tCritical95(120)).toBeCloseTo(1.97993, 3);
    expect(() => tCritical95(0)).toThrow();
  });
});

describe("the issue's rule", () => {
  const policy = (name: string, answerRate: PairedDifference, time: PairedDifference) => ({
    name,
    vsDefault: { answerRate, timeToAcceptP50Ms: time },
  });

  it("judges on answer rate first, then on median time to accept when the answer rates are not distinguishable", () => {
    const verdict = verdictOf([
      { name: "default", vsDefault: null },
      policy("worse-rate", diff(-0.03, -0.01), diff(-5000, -1000)),
      policy("same-rate-slower", diff(-0.01, 0.01), diff(500, 1500)),
      policy("same", diff(-0.01, 0.01), diff(-500, 500)),
    ]);
    expect(verdict.judgements.map((j) => [j.policy, j.outcome, j.decidedBy])).toEqual([
      ["worse-rate", "default-better", "answerRate"],
      ["same-rate-slower", "default-better", "timeToAcceptP50Ms"],
      ["same", "tie", "neither"],
    ]);
    expect(verdict).toMatchObject({ defaultWins: true, beatenBy: [], tiedWith: ["same"] });
    expect(verdict.judgements[0]!.evidence).toBe("answer rate -2.00 pp [-3.00 pp, -1.00 pp]: lower than the default");
  });

  it("names a policy that is the default itself rather than calling it a tie", () => {
    const zero = diff(0, 0);
    const verdict = verdictOf([
      { name: "default", vsDefault: null },
      { ...policy("pure-grab", zero, zero), sameAsDefault: true },
      policy("slower", diff(-0.01, 0.01), diff(500, 1500)),
    ]);
    expect(verdict.judgements.map((j) => [j.policy, j.outcome])).toEqual([
      ["pure-grab", "same-policy"],
      ["slower", "default-better"],
    ]);
    expect(verdict).toMatchObject({ defaultWins: true, tiedWith: [] });
    expect(verdict.summary).toBe(
      "the default wins: every other policy is worse on answer rate, or as good on it and slower to accept (pure-grab: the default itself)",
    );
  });

  it("says the default does not win when a policy answers more, or as many and faster", () => {
    const verdict = verdictOf([policy("more", diff(0.001, 0.02), diff(1000, 2000)), policy("faster", diff(-0.01, 0.01), diff(-900, -100))]);
    expect(verdict).toMatchObject({ defaultWins: false, beatenBy: ["more", "faster"] });
    expect(verdict.summary).toBe("the default does not win: beaten by more, faster");
    // Without intervals (one seed) nothing is distinguishable.
    expect(verdictOf([policy("one-seed", blank, blank)]).judgements[0]!.outcome).toBe("tie");
  });
});

describe("a scenario over seeds", () => {
  it("aggregates each seed's own run, and on the command line --seeds N writes that aggregate while --seed N still writes exactly the single-seed result", async () => {
    const scenario = tiny();
    const singles = [await runScenario(scenario, 1), await runScenario(scenario, 2), await runScenario(scenario, 3)];
    const result = aggregate(singles);
    expect(result.seeds).toEqual([1, 2, 3]);
    expect(result.policies.map((p) => p.name)).toEqual(["default", "pure-dispatch"]);
    const grab = result.policies[1]!;
    const rates = singles.map((s) => s.policies[1]!.summary.answerRate!);
    expect(grab.seeds.map((s) => s.answerRate)).toEqual(rates);
    expect(grab.answerRate.mean).toBeCloseTo((rates[0]! + rates[1]! + rates[2]!) / 3, 12);
    const base = singles.map((s) => s.policies[0]!.summary.timeToAcceptP50Ms!);
    const times = singles.map((s) => s.policies[1]!.summary.timeToAcceptP50Ms!);
    expect(grab.vsDefault!.timeToAcceptP50Ms.mean).toBeCloseTo((times[0]! - base[0]! + times[1]! - base[1]! + times[2]! - base[2]!) / 3, 6);
    expect(result.policies[0]!.vsDefault).toBeNull();
    expect(result.policies.map((p) => p.sameAsDefault)).toEqual([false, false]);
    // A policy run under another name with the default's own setup is recognised as the default.
    const renamed = aggregate(singles.map((s) => ({ ...s, policies: [...s.policies, { ...s.policies[0]!, name: "alias" }] })));
    expect(renamed.policies.map((p) => [p.name, p.sameAsDefault])).toEqual([
      ["default", false],
      ["pure-dispatch", false],
      ["alias", true],
    ]);
    expect(renamed.verdict!.judgements.find((j) => j.policy === "alias")!.outcome).toBe("same-policy");
    // Not a trivial day: the seeds' days differ, so the spread is real.
    expect(result.policies[0]!.answerRate.sd! + result.policies[0]!.timeToAcceptP50Ms.sd!).toBeGreaterThan(0);
    expect(result.verdict!.judgements).toHaveLength(1);
    expect(formatSeedsTable(result)).toMatch(/^tiny \(.*\), 3 seeds: 1, 2, 3$/m);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-seeds-"));
    const file = path.join(dir, "tiny.json");
    fs.writeFileSync(file, JSON.stringify(RAW));
    const cli = (args: string[]) => run("npx", ["tsx", "app/cli/simulate.ts", file, "--out", dir, ...args], { cwd: root });

    await cli(["--seed", "2"]);
    expect(fs.readFileSync(path.join(dir, "tiny-seed2.json"), "utf8")).toBe(`${JSON.stringify(singles[1], null, 2)}\n`);

    // Another process, the same seeds: the same bytes as the aggregate of the runs above.
    const many = await cli(["--seeds", "3"]);
    expect(fs.readFileSync(path.join(dir, "tiny-seeds1-3.json"), "utf8")).toBe(`${JSON.stringify(result, null, 2)}\n`);
    expect(many.stdout).toMatch(/verdict: /);
    expect(many.stderr).toMatch(/seed 3 \[3\/3\] policy 2\/2 pure-dispatch done/);

    await expect(cli(["--seeds", "2", "--seed-range", "1..2"])).rejects.toMatchObject({ code: 2 });
    await expect(cli(["--seed-range", "5..3"])).rejects.toMatchObject({ code: 2 });
  }, 180_000);
});

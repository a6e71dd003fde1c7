/**
 * `npm run bench [-- --quick] [-- --only=matchingCore,latency]`: every figure next to its baseline,
 * measured in the same run on the same Redis and PostgreSQL. Prints one table (figure, baseline,
 * ratio, target) and writes bench/results/<timestamp>.json. `--quick` is the CI smoke mode: small
 * sizes, under 2 minutes, and no assertions on the numbers.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  isFigure,
  meetsTarget,
  ratioOf,
  withinBudget,
  type BenchContext,
  type BenchRow,
  type BenchSuite,
  type Comparison,
  type Figure,
} from "./lib/harness.ts";
import { printTable } from "./lib/stats.ts";
import { matchingCoreSuite } from "./suites/matchingCore.ts";
import { endToEndSuite } from "./suites/endToEnd.ts";
import { latencySuite } from "./suites/latency.ts";
import { decisionTimeSuite } from "./suites/decisionTime.ts";
import { socketMemorySuite } from "./suites/socketMemory.ts";
import { kpisSuite } from "./suites/kpis.ts";
import { simulationSuite } from "./suites/simulation.ts";
import { redisWorkSuite } from "./suites/redisWork.ts";

const SUITES: BenchSuite[] = [matchingCoreSuite, redisWorkSuite, endToEndSuite, latencySuite, decisionTimeSuite, socketMemorySuite, kpisSuite, simulationSuite];

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const only = argv
  .find((a) => a.startsWith("--only="))
  ?.slice("--only=".length)
  .split(",");
const unknown = argv.filter((a) => a !== "--quick" && !a.startsWith("--only="));
if (unknown.length) {
  console.error(`unknown option(s): ${unknown.join(" ")}\nusage: npm run bench [-- --quick] [-- --only=${SUITES.map((s) => s.name).join(",")}]`);
  process.exit(2);
}
const selected = only ? SUITES.filter((s) => only.includes(s.name)) : SUITES;
if (only && selected.length !== only.length) {
  console.error(`unknown suite in --only; known: ${SUITES.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const context: BenchContext = {
  quick,
  redisUrl: process.env.REDIS_URL || "redis://127.0.0.1:6379",
  databaseUrl: process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/test",
  log: (line) => process.stderr.write(`[bench] ${line}\n`),
};

const started = Date.now();
const results: Array<{ suite: string; comparisons: BenchRow[]; seconds: number }> = [];
for (const suite of selected) {
  const suiteStarted = Date.now();
  context.log(`${suite.name}: starting${quick ? " (quick)" : ""}`);
  const comparisons = await suite.run(context);
  const seconds = (Date.now() - suiteStarted) / 1000;
  context.log(`${suite.name}: done in ${seconds.toFixed(1)} s`);
  results.push({ suite: suite.name, comparisons, seconds });
}

const format = (value: number, unit: string) =>
  `${Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2)} ${unit}`;
const comparisonRow = (c: Comparison) => [
  c.measure,
  format(c.figure, c.unit),
  `${format(c.baseline, c.unit)} (${c.baselineLabel})`,
  `${ratioOf(c).toFixed(2)}x`,
  `${c.better === "higher" ? "≥" : "≤"} ${c.targetRatio.toFixed(1)}x`,
  meetsTarget(c) ? "met" : "MISSED",
];
// A figure has no baseline: its target is an absolute budget, or none (reported only).
const figureRow = (f: Figure) => {
  const within = withinBudget(f);
  const target = f.atMost === null ? "none (reported)" : `≤ ${f.atMost} ${f.unit}${f.targetLabel ? ` (${f.targetLabel})` : ""}`;
  return [f.measure, format(f.figure, f.unit), "—", "—", target, within === null ? "" : within ? "met" : "MISSED"];
};
const rows = results.flatMap(({ comparisons }) => comparisons.map((row) => (isFigure(row) ? figureRow(row) : comparisonRow(row))));
console.log(`\nadvisor-dispatch benchmarks${quick ? " (quick mode: small sizes, indicative only)" : ""}`);
printTable(["measure", "figure", "baseline", "ratio", "target", ""], rows);
console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, "results", `${new Date(started).toISOString().replace(/[:.]/g, "-")}.json`);
await mkdir(dirname(file), { recursive: true });
await writeFile(
  file,
  JSON.stringify(
    {
      startedAt: new Date(started).toISOString(),
      quick,
      node: process.version,
      cpus: (await import("node:os")).cpus().length,
      suites: results.map((r) => ({
        ...r,
        comparisons: r.comparisons.map((row) => (isFigure(row) ? { ...row, met: withinBudget(row) } : { ...row, ratio: ratioOf(row), met: meetsTarget(row) })),
      })),
    },
    null,
    2,
  ),
);
console.log(`results written to ${file}`);

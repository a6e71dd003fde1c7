/**
 * `npm run simulate -- <scenario.json> [--seed N] [--out dir]`: runs a simulated day under each of
 * the scenario's policies (simulation/) and writes the KPIs side by side: a JSON file in `--out`
 * (default simulations/out/) with a self-contained HTML report beside it, a table on the terminal, and progress on stderr (a bar on a terminal,
 * a line per 10% otherwise). The same scenario and seed give a byte-identical JSON file.
 * With `--seeds N` (from --seed, default 1) or `--seed-range A..B`, runs the day for each seed and
 * writes the comparison over seeds instead (app/cli/simulateSeeds.ts).
 * Exits 0 when done, 2 on bad arguments or an invalid scenario.
 */
import fs from "node:fs";
import path from "node:path";
import { runScenario, type Progress } from "../../simulation/compare.ts";
import { htmlReport } from "../../simulation/html.ts";
import { parseScenario } from "../../simulation/scenario.ts";
import { formatTable } from "../../simulation/table.ts";
import { runSeedsCommand } from "./simulateSeeds.ts";

const USAGE = "usage: npm run simulate -- <scenario.json> [--seed N] [--seeds N | --seed-range A..B] [--out dir]";

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const isSeed = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

function parseArgs(argv: string[]): { file: string; seed: number; out: string; seeds: number[] | null } {
  let file: string | undefined;
  let seed = 1;
  let out = "simulations/out";
  let count: number | null = null;
  let range: [number, number] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--seed") {
      seed = Number(argv[++i]);
      if (!isSeed(seed)) fail(`--seed takes a whole number from 0 to 4294967295\n${USAGE}`);
    } else if (arg === "--seeds") {
      count = Number(argv[++i]);
      if (!Number.isInteger(count) || count < 1 || count > 1000) fail(`--seeds takes a count from 1 to 1000\n${USAGE}`);
    } else if (arg === "--seed-range") {
      const [a, b] = (argv[++i] ?? "").split("..").map(Number);
      if (a === undefined || b === undefined || !isSeed(a) || !isSeed(b) || b < a || b - a >= 1000)
        fail(`--seed-range takes A..B, whole numbers with A ≤ B and at most 1000 seeds\n${USAGE}`);
      range = [a, b];
    } else if (arg === "--out") {
      out = argv[++i] ?? fail(`--out takes a directory\n${USAGE}`);
    } else if (arg.startsWith("--")) fail(`unknown option ${arg}\n${USAGE}`);
    else if (file) fail(`one scenario at a time\n${USAGE}`);
    else file = arg;
  }
  if (count !== null && range !== null) fail(`--seeds and --seed-range say the same thing: give one\n${USAGE}`);
  const seeds = range ? seedList(range[0], range[1] - range[0] + 1) : count !== null ? seedList(seed, count) : null;
  return { file: file ?? fail(USAGE), seed, out, seeds };
}

function seedList(from: number, count: number): number[] {
  if (from + count - 1 > 0xffffffff) fail(`the seeds run past 4294967295\n${USAGE}`);
  return Array.from({ length: count }, (_, i) => from + i);
}

function progressReporter(): Progress {
  const tty = process.stderr.isTTY;
  return (policy, index, of, done) => {
    const label = `[${index + 1}/${of}] ${policy}`;
    if (!tty) return void process.stderr.write(`${label} ${Math.round(done * 100)}%\n`);
    const filled = Math.round(done * 30);
    process.stderr.write(`\r${label.padEnd(32)} [${"#".repeat(filled)}${".".repeat(30 - filled)}] ${Math.round(done * 100)}%${done >= 1 ? "\n" : ""}`);
  };
}

const args = parseArgs(process.argv.slice(2));
let input: unknown;
try {
  input = JSON.parse(fs.readFileSync(args.file, "utf8"));
} catch (error) {
  fail(`cannot read ${args.file}: ${error instanceof Error ? error.message : String(error)}`);
}
const parsed = parseScenario(input);
if (!parsed.ok) fail(`${args.file} is not a valid scenario:\n${parsed.problems.map((p) => `  - ${p}`).join("\n")}`);

if (args.seeds) {
  await runSeedsCommand(parsed.scenario, args.file, args.seeds, args.out);
  process.exit(0);
}

const result = await runScenario(parsed.scenario, args.seed, progressReporter());
fs.mkdirSync(args.out, { recursive: true });
const target = path.join(args.out, `${path.basename(args.file, ".json")}-seed${args.seed}.json`);
// Key order is the code's, the same on every run: the file is byte-identical for a scenario and seed.
fs.writeFileSync(target, `${JSON.stringify(result, null, 2)}\n`);
const report = target.replace(/\.json$/, ".html");
fs.writeFileSync(report, htmlReport(result));
console.log(formatTable(result));
console.log(`written ${target} and ${report}`);

/**
 * `npm run simulate -- <scenario.json> [--seed N] [--out dir]`: runs a simulated day under each of
 * the scenario's policies (simulation/) and writes the KPIs side by side: a JSON file in `--out`
 * (default simulations/out/) with a self-contained HTML report beside it, a table on the terminal, and progress on stderr (a bar on a terminal,
 * a line per 10% otherwise). The same scenario and seed give a byte-identical JSON file.
 * Exits 0 when done, 2 on bad arguments or an invalid scenario.
 */
import fs from "node:fs";
import path from "node:path";
import { runScenario, type Progress } from "../../simulation/compare.ts";
import { htmlReport } from "../../simulation/html.ts";
import { parseScenario } from "../../simulation/scenario.ts";
import { formatTable } from "../../simulation/table.ts";

const USAGE = "usage: npm run simulate -- <scenario.json> [--seed N] [--out dir]";

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function parseArgs(argv: string[]): { file: string; seed: number; out: string } {
  let file: string | undefined;
  let seed = 1;
  let out = "simulations/out";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--seed") {
      seed = Number(argv[++i]);
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`--seed takes a whole number from 0 to 4294967295\n${USAGE}`);
    } else if (arg === "--out") {
      out = argv[++i] ?? fail(`--out takes a directory\n${USAGE}`);
    } else if (arg.startsWith("--")) fail(`unknown option ${arg}\n${USAGE}`);
    else if (file) fail(`one scenario at a time\n${USAGE}`);
    else file = arg;
  }
  return { file: file ?? fail(USAGE), seed, out };
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

const result = await runScenario(parsed.scenario, args.seed, progressReporter());
fs.mkdirSync(args.out, { recursive: true });
const target = path.join(args.out, `${path.basename(args.file, ".json")}-seed${args.seed}.json`);
// Key order is the code's, the same on every run: the file is byte-identical for a scenario and seed.
fs.writeFileSync(target, `${JSON.stringify(result, null, 2)}\n`);
const report = target.replace(/\.json$/, ".html");
fs.writeFileSync(report, htmlReport(result));
console.log(formatTable(result));
console.log(`written ${target} and ${report}`);

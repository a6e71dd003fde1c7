/**
 * `npm run simulate -- <scenario.json> --seeds N` (or `--seed-range A..B`): the scenario's day for
 * each seed, then per policy the mean and spread over seeds and the paired difference against the
 * default (simulation/seeds.ts), with the verdict. Writes `<out>/<scenario>-seeds<A>-<B>.json`
 * (byte-identical for the same scenario and seeds: nothing in it depends on the clock), prints the
 * table, and reports progress on stderr, a line per seed and policy.
 */
import fs from "node:fs";
import path from "node:path";
import { runSeeds } from "../../simulation/seeds.ts";
import type { Scenario } from "../../simulation/scenario.ts";
import { formatSeedsTable } from "../../simulation/seedsTable.ts";

export async function runSeedsCommand(scenario: Scenario, file: string, seeds: number[], out: string): Promise<void> {
  const started = Date.now();
  const result = await runSeeds(scenario, seeds, (seed, index, of, policy, policyIndex, policies, done) => {
    if (done < 1) return;
    const elapsed = Math.round((Date.now() - started) / 1000);
    process.stderr.write(`seed ${seed} [${index + 1}/${of}] policy ${policyIndex + 1}/${policies} ${policy} done (${elapsed} s)\n`);
  });
  fs.mkdirSync(out, { recursive: true });
  const target = path.join(out, `${path.basename(file, ".json")}-seeds${seeds[0]}-${seeds[seeds.length - 1]}.json`);
  fs.writeFileSync(target, `${JSON.stringify(result, null, 2)}\n`);
  console.log(formatSeedsTable(result));
  console.log(`written ${target}`);
}

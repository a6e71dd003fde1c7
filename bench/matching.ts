/**
 * `npm run bench:matching`: time to select eligible advisors (index lookup, eligibility rules,
 * ranking) at 1k, 10k and 100k registered advisors, on the in-memory store and, when Redis is
 * reachable, the Redis store. Target: the 100k median within 2x of the 1k median for the
 * like-for-like pools (bench/lib/selection.ts says why per pool). `npm run bench` runs the same
 * measurement as its decisionTime suite.
 *
 * Options: --sizes=1000,10000,100000  --iterations=300  --stores=memory,redis
 */
import { redisReachable, type StoreKind } from "./lib/benchStore.ts";
import { SELECTION_POOLS, timeSelectionAtSizes } from "./lib/selection.ts";
import { formatMicros, printTable } from "./lib/stats.ts";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const sizes = (args.get("sizes") ?? "1000,10000,100000").split(",").map(Number);
const iterations = Number(args.get("iterations") ?? 300);
const storeKinds = (args.get("stores") ?? "memory,redis").split(",") as StoreKind[];
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";

const rows: string[][] = [];
for (const kind of storeKinds) {
  if (kind === "redis" && !(await redisReachable(redisUrl))) {
    console.log(`redis: skipped (unreachable at ${redisUrl})`);
    continue;
  }
  const results = await timeSelectionAtSizes({ kind, sizes, iterations, pools: SELECTION_POOLS, redisUrl, log: console.log });
  const base = results[0]!;
  for (const pool of SELECTION_POOLS) {
    for (const r of results) {
      const m = r.pools.get(pool)!;
      const ratio = m.medianMs / base.pools.get(pool)!.medianMs;
      rows.push([kind, pool, r.size.toLocaleString("en"), formatMicros(m.medianMs), formatMicros(m.p95Ms), m.found.toFixed(1), `${ratio.toFixed(2)}x`]);
    }
  }
}

console.log(`\nselection time per offer step (index lookup + eligibility + ranking), ${iterations} iterations each`);
printTable(["store", "pool", "advisors", "median", "p95", "eligible found", `vs ${sizes[0]!.toLocaleString("en")}`], rows);
console.log("target: at the largest size, median within 2.00x of the smallest size (like-for-like: branch and national pools)");

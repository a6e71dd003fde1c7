/**
 * `npm run bench:matching`: time to select eligible advisors (index lookup, eligibility rules,
 * ranking) at 1k, 10k and 100k registered advisors, on the in-memory store and, when Redis is
 * reachable, the Redis store. Target: the 100k median within 2x of the 1k median.
 *
 * Measured per pool, because the work per step is bounded by how many candidates the lookup may
 * return (the limit), not by how many advisors are registered: branches have a fixed size here, so
 * the branch pool does the same work at every size; the national pool returns the full limit at
 * every size. Those two are the like-for-like comparisons. The region pool grows from below the
 * limit (1k) to the limit, so its ratio also contains the extra candidates it gets to rank.
 *
 * Options: --sizes=1000,10000,100000  --iterations=300  --stores=memory,redis
 */
import { createClient } from "redis";
import { DEFAULT_DISPATCH_POLICY } from "../matching/domain/policy.ts";
import { selectCandidates, type OfferPlan } from "../matching/engine/offering.ts";
import { createMemoryMatchingStore } from "../matching/store/memory/store.ts";
import type { LiveRequest, MatchingStore } from "../matching/store/port.ts";
import { createRedisMatchingStore } from "../matching/store/redis/store.ts";
import { seededRandom } from "../core/random.ts";
import { benchRequest, populate } from "./lib/population.ts";
import { formatMicros, median, percentile, printTable } from "./lib/stats.ts";

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=") as [string, string]));
const sizes = (args.get("sizes") ?? "1000,10000,100000").split(",").map(Number);
const iterations = Number(args.get("iterations") ?? 300);
const storeKinds = (args.get("stores") ?? "memory,redis").split(",");
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";

const NOW = Date.UTC(2026, 0, 5, 9);
const PLANS: OfferPlan[] = [
  { pool: "branch", offerKind: "push", count: 1, expiresAt: NOW + 20_000 },
  { pool: "region", offerKind: "broadcast", count: 20, expiresAt: NOW + 30_000 },
  { pool: "national", offerKind: "broadcast", count: 20, expiresAt: NOW + 60_000 },
];

function liveRequest(i: number, size: number, random: () => number): LiveRequest {
  return {
    facts: benchRequest(i, size, NOW, random),
    status: "pending",
    stageIndex: 1,
    stageStartedAt: NOW,
    offersInStage: 0,
    assignedAdvisorId: null,
    excluded: [],
    offers: [],
    queueScore: null,
    callbackRequested: false,
    updatedAt: NOW,
  };
}

interface PoolResult {
  median: number;
  p95: number;
  found: number;
}

async function measure(store: MatchingStore, size: number): Promise<Map<string, PoolResult>> {
  const results = new Map<string, PoolResult>();
  for (const plan of PLANS) {
    const random = seededRandom(7);
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < iterations + 20; i++) {
      const request = liveRequest(i, size, random);
      const started = performance.now();
      const { ranked } = await selectCandidates(store, request, plan, DEFAULT_DISPATCH_POLICY, NOW, 45_000);
      const elapsed = performance.now() - started;
      if (i >= 20) {
        times.push(elapsed); // the first 20 warm the JIT and connections
        found += ranked.length;
      }
    }
    results.set(String(plan.pool), { median: median(times), p95: percentile(times, 95), found: found / iterations });
  }
  return results;
}

async function openStore(kind: string, size: number) {
  if (kind === "memory") return { store: createMemoryMatchingStore(), close: async () => {} };
  const client = createClient({ url: redisUrl });
  client.on("error", () => {});
  await client.connect();
  const store = createRedisMatchingStore(client, { prefix: `bench:${size}:${Date.now()}:` });
  return {
    store,
    close: async () => {
      await store.reset();
      await client.quit();
    },
  };
}

async function redisReachable(): Promise<boolean> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.quit();
    return true;
  } catch {
    return false;
  }
}

const rows: string[][] = [];
for (const kind of storeKinds) {
  if (kind === "redis" && !(await redisReachable())) {
    console.log(`redis: skipped (unreachable at ${redisUrl})`);
    continue;
  }
  const results: Array<{ size: number; pools: Map<string, PoolResult> }> = [];
  for (const size of sizes) {
    console.log(`${kind}: registering ${size} advisors …`);
    const { store, close } = await openStore(kind, size);
    try {
      await populate(store, size, NOW, console.log);
      results.push({ size, pools: await measure(store, size) });
    } finally {
      await close();
    }
  }
  const base = results[0]!;
  for (const plan of PLANS) {
    const pool = String(plan.pool);
    for (const r of results) {
      const m = r.pools.get(pool)!;
      rows.push([kind, pool, r.size.toLocaleString("en"), formatMicros(m.median), formatMicros(m.p95), m.found.toFixed(1), `${(m.median / base.pools.get(pool)!.median).toFixed(2)}x`]);
    }
  }
}

console.log(`\nselection time per offer step (index lookup + eligibility + ranking), ${iterations} iterations each`);
printTable(["store", "pool", "advisors", "median", "p95", "eligible found", `vs ${sizes[0]!.toLocaleString("en")}`], rows);
console.log("target: at the largest size, median within 2.00x of the smallest size (like-for-like: branch and national pools)");

/**
 * Selection time: how long one offer step's candidate selection takes (index lookup, eligibility
 * rules, ranking: selectCandidates) with a given number of advisors registered. Shared by
 * `npm run bench:matching` and the decisionTime suite.
 *
 * Measured per pool, because the work per step is bounded by how many candidates the lookup may
 * return (the limit), not by how many advisors are registered: branches have a fixed size here, so
 * the branch pool does the same work at every size; the national pool returns the full limit at
 * every size. Those two are the like-for-like comparisons. The region pool grows from below the
 * limit (1k) to the limit, so its ratio also contains the extra candidates it gets to rank.
 */
import { seededRandom } from "../../core/random.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import { selectCandidates, type OfferPlan } from "../../matching/engine/offering.ts";
import { newLiveRequest } from "../../matching/store/newLiveRequest.ts";
import type { LiveRequest, MatchingStore } from "../../matching/store/port.ts";
import { openBenchStore, type StoreKind } from "./benchStore.ts";
import { benchRequest, populate } from "./population.ts";
import { median, percentile } from "./stats.ts";

/** A fixed clock: every heartbeat and licence window is relative to it, so runs are repeatable. */
const NOW = Date.UTC(2026, 0, 5, 9);
const PRESENCE_TTL_MS = 45_000;
/** Iterations per pool and size whose times are dropped: they warm the JIT and the connection. */
const WARMUP_ITERATIONS = 30;

export type SelectionPool = "branch" | "region" | "national";
export const SELECTION_POOLS: SelectionPool[] = ["branch", "region", "national"];
/** The pools whose work per step does not depend on the number of registered advisors. */
export const LIKE_FOR_LIKE_POOLS: SelectionPool[] = ["branch", "national"];

const PLANS: Record<SelectionPool, OfferPlan> = {
  branch: { pool: "branch", reach: "branch", offerKind: "push", count: 1, expiresAt: NOW + 20_000 },
  region: { pool: "region", reach: "region", offerKind: "broadcast", count: 20, expiresAt: NOW + 30_000 },
  national: { pool: "national", reach: "national", offerKind: "broadcast", count: 20, expiresAt: NOW + 60_000 },
};

export interface PoolTiming {
  medianMs: number;
  p95Ms: number;
  /** Eligible candidates found per step, on average. */
  found: number;
}

export interface SizeTiming {
  size: number;
  pools: Map<SelectionPool, PoolTiming>;
}

function liveRequest(i: number, size: number, random: () => number): LiveRequest {
  return newLiveRequest(benchRequest(i, size, NOW, random), { stageIndex: 1, now: NOW });
}

async function timePool(store: MatchingStore, size: number, plan: OfferPlan, iterations: number): Promise<PoolTiming> {
  const random = seededRandom(7);
  const times: number[] = [];
  let found = 0;
  for (let i = 0; i < iterations + WARMUP_ITERATIONS; i++) {
    const request = liveRequest(i, size, random);
    const started = performance.now();
    const { ranked } = await selectCandidates(store, request, plan, DEFAULT_DISPATCH_POLICY, NOW, PRESENCE_TTL_MS);
    const elapsed = performance.now() - started;
    if (i < WARMUP_ITERATIONS) continue;
    times.push(elapsed);
    found += ranked.length;
  }
  return { medianMs: median(times), p95Ms: percentile(times, 95), found: found / iterations };
}

export interface SelectionRun {
  kind: StoreKind;
  sizes: number[];
  iterations: number;
  pools: SelectionPool[];
  redisUrl: string;
  log(line: string): void;
}

/** For each size: a fresh store, `size` advisors registered, then every pool timed. */
export async function timeSelectionAtSizes(run: SelectionRun): Promise<SizeTiming[]> {
  const results: SizeTiming[] = [];
  for (const size of run.sizes) {
    run.log(`${run.kind}: registering ${size.toLocaleString("en")} advisors …`);
    const { store, close } = await openBenchStore(run.kind, run.redisUrl, `selection-${size}`);
    try {
      await populate(store, size, NOW, run.log);
      run.log(`${run.kind}: timing selection at ${size.toLocaleString("en")} advisors (${run.pools.join(", ")}; ${run.iterations} iterations each)`);
      const pools = new Map<SelectionPool, PoolTiming>();
      for (const pool of run.pools) pools.set(pool, await timePool(store, size, PLANS[pool], run.iterations));
      results.push({ size, pools });
    } finally {
      await close();
    }
  }
  return results;
}

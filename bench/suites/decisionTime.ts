/**
 * decisionTime: does the time to choose advisors for one offer step stay flat as the number of
 * registered advisors grows? Figure: the median selection time (index lookup + eligibility +
 * ranking) at the largest size; baseline: the same at 1k advisors, same store, same run. Target:
 * within 2x. Only the like-for-like pools (branch, national) are compared: the region pool's work
 * grows with the population up to the lookup limit by design (bench/lib/selection.ts, README).
 */
import type { BenchSuite, Comparison } from "../lib/harness.ts";
import { redisReachable, type StoreKind } from "../lib/benchStore.ts";
import { LIKE_FOR_LIKE_POOLS, timeSelectionAtSizes } from "../lib/selection.ts";

export const decisionTimeSuite: BenchSuite = {
  name: "decisionTime",
  async run(context) {
    const sizes = context.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
    const iterations = context.quick ? 100 : 300;
    const kinds: StoreKind[] = ["memory"];
    if (await redisReachable(context.redisUrl)) kinds.push("redis");
    else context.log(`decisionTime: Redis unreachable at ${context.redisUrl}; memory store only`);

    const comparisons: Comparison[] = [];
    for (const kind of kinds) {
      const results = await timeSelectionAtSizes({ kind, sizes, iterations, pools: LIKE_FOR_LIKE_POOLS, redisUrl: context.redisUrl, log: context.log });
      const smallest = results[0]!;
      const largest = results[results.length - 1]!;
      for (const pool of LIKE_FOR_LIKE_POOLS) {
        const base = smallest.pools.get(pool)!;
        const top = largest.pools.get(pool)!;
        comparisons.push({
          measure: `decision time: ${pool} pool median at ${largest.size.toLocaleString("en")} advisors (${kind} store)`,
          figure: top.medianMs,
          baseline: base.medianMs,
          baselineLabel: `median at ${smallest.size.toLocaleString("en")}`,
          unit: "ms",
          better: "lower",
          targetRatio: 2.0,
          details: {
            iterations,
            bySize: results.map((r) => {
              const timing = r.pools.get(pool)!;
              return { advisors: r.size, medianMs: timing.medianMs, p95Ms: timing.p95Ms, eligibleFound: timing.found };
            }),
          },
        });
      }
    }
    return comparisons;
  },
};

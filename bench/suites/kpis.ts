/**
 * kpis: how long the branch KPI query (reporting/kpis.ts) takes over a year of one branch's history
 * (about 200k requests with their offers, ratings, events and award transactions; 10k with --quick)
 * in a private PostgreSQL database. Figures: the median and p90 of several runs, through the domain
 * function as the route calls it, for the year by day, the year by hour, and the longest range the
 * route allows by hour (83 days); target under 1000 ms each. The year by hour is 8,760 buckets, past
 * the route's 2,000-bucket cap, so it is asked with a wider cap: the cost of the scan, not an API call.
 */
import { openPostgres } from "../../platform/database.ts";
import { branchKpis, KPI_LIMITS, type KpiRange } from "../../reporting/kpis.ts";
import type { BenchSuite, Figure } from "../lib/harness.ts";
import { KPI_BRANCH, KPI_YEAR, writeKpiHistory } from "../lib/kpiHistory.ts";
import { createScratchDatabase } from "../lib/scratchDatabase.ts";
import { median, percentile } from "../lib/stats.ts";

const TARGET_MS = 1_000;
const DAY_MS = 86_400_000;

export const kpisSuite: BenchSuite = {
  name: "kpis",
  async run(context) {
    const requests = context.quick ? 10_000 : 200_000;
    const runs = context.quick ? 3 : 9;
    const scratch = await createScratchDatabase(context.databaseUrl);
    try {
      context.log(`kpis: writing a year of history for one branch (${requests.toLocaleString("en")} requests) into ${scratch.name}`);
      const started = Date.now();
      const rows = await writeKpiHistory(scratch.url, requests, context.log);
      context.log(`kpis: history written in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(rows)}`);
      // A statement bound well above the target, so a slow run is measured rather than cut off.
      const database = await openPostgres(scratch.url, { poolSize: 2, timeoutMs: 30_000 });
      try {
        const cases: Array<{ label: string; range: KpiRange }> = [
          { label: "year by day", range: { ...KPI_YEAR, bucket: "day" } },
          { label: "year by hour", range: { ...KPI_YEAR, bucket: "hour" } },
          { label: "83 days by hour", range: { from: new Date(KPI_YEAR.to.getTime() - 83 * DAY_MS), to: KPI_YEAR.to, bucket: "hour" } },
        ];
        const figures: Figure[] = [];
        for (const { label, range } of cases) {
          const times: number[] = [];
          let buckets = 0;
          let created = 0;
          // One unmeasured run first: plans and the buffer cache warm up as they would on a live server.
          for (let run = 0; run <= runs; run++) {
            const t0 = performance.now();
            const result = await branchKpis(database.prisma, { ...range, branchId: KPI_BRANCH }, { ...KPI_LIMITS, maxBuckets: 10_000 });
            const ms = performance.now() - t0;
            if (!result.ok) throw new Error(`kpis: ${label} refused: ${JSON.stringify(result)}`);
            buckets = result.kpis.buckets.length;
            created = result.kpis.total.created;
            if (run > 0) times.push(ms);
            context.log(`kpis: ${label} run ${run}${run === 0 ? " (warm-up)" : ""}: ${ms.toFixed(0)} ms`);
          }
          const details = { runs, buckets, requests: created, timesMs: times.map((t) => Math.round(t)) };
          figures.push(
            {
              kind: "figure",
              measure: `kpis: ${label} median (${created.toLocaleString("en")} requests)`,
              figure: median(times),
              unit: "ms",
              atMost: TARGET_MS,
              details,
            },
            { kind: "figure", measure: `kpis: ${label} p90`, figure: percentile(times, 90), unit: "ms", atMost: TARGET_MS, details },
          );
        }
        return figures;
      } finally {
        await database.close();
      }
    } finally {
      await scratch.drop();
    }
  },
};

/**
 * The contract between `npm run bench` (bench/run.ts) and its suites: each suite measures one of our
 * figures and its baseline side by side, in the same run, on the same Redis and PostgreSQL, and
 * returns comparisons (plus, where there is no baseline, figures against a fixed budget). The
 * runner prints them as one table and writes them to bench/results/.
 */

export interface BenchContext {
  /** `--quick`: small sizes and short phases, so the whole run ends in under 2 minutes (CI smoke). */
  quick: boolean;
  redisUrl: string;
  /** A PostgreSQL URL whose server may be used to CREATE/DROP private databases for the run. */
  databaseUrl: string;
  /** Progress lines for long phases (go to stderr, so the table on stdout stays clean). */
  log(line: string): void;
}

export interface Comparison {
  /** What is measured, e.g. "matching core: decisions/s (redis store)". */
  measure: string;
  figure: number;
  baseline: number;
  /** What the baseline is, e.g. "BullMQ add+process jobs/s". */
  baselineLabel: string;
  unit: string;
  /** Whether a larger figure is better (throughput) or a smaller one (latency, memory). */
  better: "higher" | "lower";
  /** The target as a ratio of figure to baseline, e.g. 1.0 (≥ 1.0x for throughput) or 3.0 (≤ 3x). */
  targetRatio: number;
  /** Extra figures worth keeping in the JSON (p50/p95, sizes, counts). */
  details?: Record<string, unknown>;
}

/**
 * A figure with no baseline to compare with, judged against a fixed budget when it has one: e.g.
 * PostgreSQL statements per flow (at most 12), or Redis calls per flow (reported only).
 */
export interface Figure {
  kind: "figure";
  measure: string;
  figure: number;
  unit: string;
  /** The most the figure may be; null when it is only reported. */
  atMost: number | null;
  /** Where the budget comes from, e.g. "issue 12". */
  targetLabel?: string;
  details?: Record<string, unknown>;
}

/** One row of the table. */
export type BenchRow = Comparison | Figure;

export interface BenchSuite {
  name: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

export const isFigure = (row: BenchRow): row is Figure => (row as Figure).kind === "figure";

export function ratioOf(c: Comparison): number {
  return c.figure / c.baseline;
}

/** Whether a figure is within its budget; null when it has none. */
export function withinBudget(f: Figure): boolean | null {
  return f.atMost === null ? null : f.figure <= f.atMost;
}

/** Whether a comparison meets its target (figure/baseline ≥ target for "higher", ≤ for "lower"). */
export function meetsTarget(c: Comparison): boolean {
  const ratio = ratioOf(c);
  if (!Number.isFinite(ratio)) return false;
  return c.better === "higher" ? ratio >= c.targetRatio : ratio <= c.targetRatio;
}

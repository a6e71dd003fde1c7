/**
 * The statistics of a comparison over seeds: mean, sample standard deviation, and the paired
 * difference of two policies with a 95% Student-t interval. Paired because every policy sees the
 * same arrivals and advisors for the same seed (population.ts draws them from the seed alone), so
 * the day-to-day noise cancels in the per-seed difference and what is left is the policy's effect.
 */

export interface Spread {
  n: number;
  mean: number | null;
  /** Sample standard deviation (n − 1); null below 2 values. */
  sd: number | null;
}

export interface PairedDifference {
  /** Seeds where both policies had a value. */
  n: number;
  /** Mean of (policy − baseline) over those seeds. */
  mean: number | null;
  sd: number | null;
  /** 95% interval of the mean difference, mean ± t(0.975, n − 1) · sd / √n; null below 2 seeds. */
  low: number | null;
  high: number | null;
}

export function spread(values: readonly number[]): Spread {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { n, mean, sd: null };
  const squares = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  return { n, mean, sd: Math.sqrt(squares / (n - 1)) };
}

// t(0.975, df) for df 1-30, from the standard table (e.g. NIST/SEMATECH e-Handbook, 1.3.6.7.2).
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** The two-sided 95% critical value of Student's t; past 30 degrees of freedom, the Cornish-Fisher expansion (within 0.001). */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`degrees of freedom must be a whole number ≥ 1, got ${df}`);
  if (df <= T975.length) return T975[df - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2);
}

/** Difference policy − baseline seed by seed; a seed where either is null (nothing answered) is left out. */
export function pairedDifference(policy: ReadonlyArray<number | null>, baseline: ReadonlyArray<number | null>): PairedDifference {
  if (policy.length !== baseline.length) throw new Error("paired values must come from the same seeds");
  const diffs: number[] = [];
  for (let i = 0; i < policy.length; i++) {
    const a = policy[i];
    const b = baseline[i];
    if (a !== null && a !== undefined && b !== null && b !== undefined) diffs.push(a - b);
  }
  const { n, mean, sd } = spread(diffs);
  if (mean === null || sd === null) return { n, mean, sd, low: null, high: null };
  const half = tCritical95(n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, low: mean - half, high: mean + half };
}

/** Which side of 0 an interval lies on: above, below, or containing it (or unknown without an interval). */
export function sideOfZero(d: PairedDifference): "above" | "below" | "contains" | "unknown" {
  if (d.low === null || d.high === null) return "unknown";
  if (d.low > 0) return "above";
  if (d.high < 0) return "below";
  return "contains";
}

/**
 * The consistency checker as a test assertion: fault and reconciler tests end with
 * `await expectConsistent({ prisma, store, now })`, which fails naming every divergence and violation.
 */
import { expect } from "vitest";
import { checkConsistency, type ConsistencyOptions, type ConsistencyReport } from "../../matching/records/consistency.ts";

export async function expectConsistent(options: ConsistencyOptions): Promise<ConsistencyReport> {
  const report = await expectSettlesConsistent(() => options, 0);
  expect(report.ok).toBe(true);
  return report;
}

/**
 * The same against servers that are still running (their funnels keep deciding after the load
 * stops): a decision made while the checker reads both stores shows as a divergence until its
 * journal entry is persisted, milliseconds later. So the check is repeated, each time at the
 * current time, until one report is clean, and fails with the last report after `withinMs`. A real
 * divergence never clears, so it still fails.
 */
export async function expectSettlesConsistent(options: () => ConsistencyOptions, withinMs = 10_000): Promise<ConsistencyReport> {
  const deadline = Date.now() + withinMs;
  let report = await checkConsistency(options());
  while (!report.ok && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    report = await checkConsistency(options());
  }
  expect({ divergences: report.divergences, violations: report.violations }, "live store and PostgreSQL disagree").toEqual({ divergences: [], violations: [] });
  return report;
}

/** The violation kinds of a report, sorted, for exact assertions. */
export const violationKinds = (report: ConsistencyReport) => report.violations.map((v) => v.kind).sort();

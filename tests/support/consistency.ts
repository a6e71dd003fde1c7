/**
 * The consistency checker as a test assertion: fault and reconciler tests end with
 * `await expectConsistent({ prisma, store, now })`, which fails naming every divergence and violation.
 */
import { expect } from "vitest";
import { checkConsistency, type ConsistencyOptions, type ConsistencyReport } from "../../matching/records/consistency.ts";

export async function expectConsistent(options: ConsistencyOptions): Promise<ConsistencyReport> {
  const report = await checkConsistency(options);
  expect({ divergences: report.divergences, violations: report.violations }, "live store and PostgreSQL disagree").toEqual({ divergences: [], violations: [] });
  expect(report.ok).toBe(true);
  return report;
}

/** The violation kinds of a report, sorted, for exact assertions. */
export const violationKinds = (report: ConsistencyReport) => report.violations.map((v) => v.kind).sort();

/**
 * One line of figures per policy across all branches, from the branch KPIs (never from the
 * simulation's own bookkeeping). Counts add up exactly, and so do the rates made of them. A
 * percentile does not add up across branches, so the day's median time to accept here is the mean
 * of the branch medians weighted by each branch's assigned requests: stated as such in the output.
 */
import type { BranchKpis, Kpis } from "../reporting/kpis.ts";

/** The branch KPIs' own fields where they add up across branches, plus the weighted percentiles. */
export type PolicySummary = Pick<
  Kpis,
  | "created"
  | "assigned"
  | "completed"
  | "abandoned"
  | "callbacks"
  | "answerRate"
  | "abandonmentRate"
  | "answeredByStage"
  | "offers"
  | "declineRate"
  | "timeoutRate"
> & {
  /** Assigned-weighted mean of the branches' median time to accept (ms). */
  timeToAcceptP50Ms: number | null;
  /** Assigned-weighted mean of the branches' 90th percentile time to accept (ms). */
  timeToAcceptP90Ms: number | null;
};

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

function weighted(totals: Kpis[], pick: (k: Kpis) => number | null): number | null {
  let sum = 0;
  let weight = 0;
  for (const k of totals) {
    const value = pick(k);
    if (value === null || k.assigned === 0) continue;
    sum += value * k.assigned;
    weight += k.assigned;
  }
  return weight > 0 ? sum / weight : null;
}

export function summarise(branches: BranchKpis[]): PolicySummary {
  const totals = branches.map((b) => b.total);
  const sum = (pick: (k: Kpis) => number) => totals.reduce((s, k) => s + pick(k), 0);
  const created = sum((k) => k.created);
  const assigned = sum((k) => k.assigned);
  const abandoned = sum((k) => k.abandoned);
  const offers = sum((k) => k.offers);
  // Declined and timed-out offers back from each branch's rate (offers × rate is a whole count).
  const declined = sum((k) => Math.round((k.declineRate ?? 0) * k.offers));
  const timedOut = sum((k) => Math.round((k.timeoutRate ?? 0) * k.offers));
  const stages = { dedicated: 0, branch: 0, region: 0, national: 0, queue: 0 };
  for (const k of totals) for (const stage of Object.keys(stages) as Array<keyof typeof stages>) stages[stage] += k.answeredByStage[stage];
  return {
    created,
    assigned,
    completed: sum((k) => k.completed),
    abandoned,
    callbacks: sum((k) => k.callbacks),
    answerRate: ratio(assigned, created),
    abandonmentRate: ratio(abandoned, created),
    timeToAcceptP50Ms: weighted(totals, (k) => k.timeToAcceptMs.p50),
    timeToAcceptP90Ms: weighted(totals, (k) => k.timeToAcceptMs.p90),
    answeredByStage: stages,
    offers,
    declineRate: ratio(declined, offers),
    timeoutRate: ratio(timedOut, offers),
  };
}

/**
 * POST /v1/branches/{id}/dispatch-policy/simulate as the policy editor reads it (the contract:
 * reporting/policyReplay.ts), and the figures it shows side by side, each with how its text is made
 * (the KPI dashboard's formats), so a test can format the API's own answer and compare text for text.
 */
import { formatCount, formatMs, formatRate } from "../kpis/format.ts";
import type { Kpis } from "../kpis/types.ts";

export interface PolicySimulation {
  branchId: string;
  window: { from: string; to: string; requests: number };
  cutShort: boolean;
  cutReason?: string;
  seed: number;
  current: { version: number; kpis: Kpis };
  candidate: { kpis: Kpis };
  fitted: {
    from: string;
    to: string;
    advisors: Array<{ advisorId: string; source: { offers: string; handle: string } }>;
  };
  assumptions: string[];
}

export interface SimulationRow {
  /** The cells' data-testids are `sim-current-${id}` and `sim-candidate-${id}`. */
  id: string;
  label: string;
  value(k: Kpis): string;
}

export const SIMULATION_ROWS: readonly SimulationRow[] = [
  { id: "created", label: "Requests replayed", value: (k) => formatCount(k.created) },
  { id: "answerRate", label: "Answer rate", value: (k) => formatRate(k.answerRate) },
  { id: "timeToAcceptMs-p50", label: "Time to accept, median", value: (k) => formatMs(k.timeToAcceptMs.p50) },
  { id: "timeToAcceptMs-p90", label: "Time to accept, 90th percentile", value: (k) => formatMs(k.timeToAcceptMs.p90) },
  { id: "abandoned", label: "Abandoned", value: (k) => formatCount(k.abandoned) },
  { id: "callbacks", label: "Callbacks promised", value: (k) => formatCount(k.callbacks) },
  { id: "stage-dedicated", label: "Answered by the dedicated advisor", value: (k) => formatCount(k.answeredByStage.dedicated) },
  { id: "stage-branch", label: "Answered at the branch stage", value: (k) => formatCount(k.answeredByStage.branch) },
  { id: "stage-region", label: "Answered at the region stage", value: (k) => formatCount(k.answeredByStage.region) },
  { id: "stage-national", label: "Answered at the national stage", value: (k) => formatCount(k.answeredByStage.national) },
  { id: "stage-queue", label: "Answered from the queue", value: (k) => formatCount(k.answeredByStage.queue) },
  { id: "timeoutRate", label: "Offers timed out", value: (k) => formatRate(k.timeoutRate) },
  { id: "utilisation", label: "Utilisation", value: (k) => formatRate(k.utilisation) },
];

/** The windows the editor offers, ending now. */
export const SIMULATION_WINDOWS = [
  { id: "week", label: "the last 7 days", ms: 7 * 86_400_000 },
  { id: "day", label: "the last 24 hours", ms: 86_400_000 },
] as const;

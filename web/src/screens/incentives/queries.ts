/**
 * The incentive rule sets' reads and writes (api/routes/incentives.ts). Every key starts with the
 * branch's rule-set key, so a draft or an activation refreshes the list and each version shown.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, get } from "../../api/client.ts";
import type { RuleSet } from "../../../../incentives/rules/schema.ts";

export type RuleSetStatus = "draft" | "active" | "retired";

/** GET /v1/branches/{id}/incentive-rules answers these, newest version first. */
export interface RuleSetVersion {
  branchId: string;
  version: number;
  status: RuleSetStatus;
  createdBy: string;
  createdAt: string;
  activatedAt: string | null;
  ruleSet: RuleSet;
}

interface SimulationSummary {
  totals: { posted: number; skipped: number; points: number };
  /** advisorId → posted points. */
  perAdvisor: Record<string, number>;
  budgetUsed: number;
  budgetUsedByPeriod: Record<string, number>;
}

/** POST .../{version}/simulate: the version's replay, the active version's, and their difference. */
export interface SimulationReport {
  draft: SimulationSummary;
  active: (SimulationSummary & { version: number }) | null;
  difference: { pointsDelta: number; perAdvisorDelta: Record<string, number> } | null;
  events: number;
}

export const rulesPath = (branchId: string) => `/v1/branches/${encodeURIComponent(branchId)}/incentive-rules`;
const rulesKey = (branchId: string) => ["branch", branchId, "incentive-rules"];

export function useRuleSets(branchId: string) {
  return useQuery({ queryKey: rulesKey(branchId), queryFn: () => get<RuleSetVersion[]>(rulesPath(branchId)) });
}

export function useCreateDraft(branchId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ruleSet: RuleSet) => api<RuleSetVersion>("POST", rulesPath(branchId), ruleSet),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: rulesKey(branchId) }),
  });
}

export function useActivate(branchId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (version: number) => api<{ version: number; retired: number | null }>("POST", `${rulesPath(branchId)}/${version}/activate`),
    // The leaderboard earns under the new rules from now on: it is worth reading again too.
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["branch", branchId] }),
  });
}

export function useSimulate(branchId: string) {
  return useMutation({
    mutationFn: ({ version, from, to }: { version: number; from: string; to: string }) =>
      api<SimulationReport>("POST", `${rulesPath(branchId)}/${version}/simulate`, { from, to }),
  });
}

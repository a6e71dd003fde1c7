/** The leaderboard and settlements reads (api/routes/incentives.ts, api/routes/settlements.ts). */
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { get } from "../../api/client.ts";
import type { Page } from "../../api/types.ts";

/** GET /v1/branches/{id}/leaderboard: advisors by points in the open period; equal points share a rank. */
export interface LeaderboardEntry {
  rank: number;
  advisorId: string;
  name: string;
  points: number;
}

export interface SettlementSummary {
  id: string;
  branchId: string;
  periodKey: string;
  start: string;
  end: string;
  closedAt: string;
  advisors: number;
  points: number;
}

export interface SettlementLine {
  advisorId: string;
  points: number;
  awards: number;
  byRule: Record<string, number>;
  shortfall?: number;
  note?: string;
}

export interface Settlement extends SettlementSummary {
  report: {
    branchId: string;
    period: { key: string; start: string; end: string };
    advisors: SettlementLine[];
    totals: { points: number; awards: number; advisors: number };
  };
}

const branchPath = (branchId: string) => `/v1/branches/${encodeURIComponent(branchId)}`;
export const settlementPath = (branchId: string, settlementId: string) => `${branchPath(branchId)}/settlements/${encodeURIComponent(settlementId)}`;

// Awards arrive from the incentives consumer every few seconds: a slow poll keeps the board current.
const LEADERBOARD_POLL_MS = 5_000;

export function useLeaderboard(branchId: string) {
  return useQuery({
    queryKey: ["branch", branchId, "leaderboard"],
    queryFn: () => get<LeaderboardEntry[]>(`${branchPath(branchId)}/leaderboard`),
    refetchInterval: LEADERBOARD_POLL_MS,
  });
}

export function useSettlements(branchId: string) {
  return useInfiniteQuery({
    queryKey: ["branch", branchId, "settlements"],
    queryFn: ({ pageParam }) =>
      get<Page<SettlementSummary>>(`${branchPath(branchId)}/settlements?limit=20${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ""}`),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useSettlement(branchId: string, settlementId: string) {
  return useQuery({
    queryKey: ["branch", branchId, "settlements", settlementId],
    queryFn: () => get<Settlement>(settlementPath(branchId, settlementId)),
    // A closed period's report never changes.
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** The board's reads. Keys start with the branch key, so one feed message refreshes them all. */
import { useQuery } from "@tanstack/react-query";
import { ApiError, get } from "../../api/client.ts";
import type { BranchAdvisor, BranchQueue, Page, RequestSummary } from "../../api/types.ts";
import { branchKey } from "../../live/useBranchFeed.ts";

/** A route this server does not have yet answers 404: the board then falls back rather than failing. */
export const isMissingRoute = (error: unknown) => error instanceof ApiError && error.status === 404 && error.code === "NOT_FOUND";

// The socket drives refreshes; this slow poll only covers a feed message lost in a reconnect.
const SAFETY_POLL_MS = 30_000;

export function useQueue(branchId: string) {
  return useQuery({
    queryKey: [...branchKey(branchId), "queue"],
    queryFn: () => get<BranchQueue>(`/v1/branches/${encodeURIComponent(branchId)}/queue`),
    refetchInterval: SAFETY_POLL_MS,
  });
}

export function useAdvisors(branchId: string) {
  return useQuery({
    queryKey: [...branchKey(branchId), "advisors"],
    queryFn: () => get<Page<BranchAdvisor>>(`/v1/branches/${encodeURIComponent(branchId)}/advisors?limit=200`),
    refetchInterval: SAFETY_POLL_MS,
  });
}

export function useInFlight(branchId: string) {
  return useQuery({
    queryKey: [...branchKey(branchId), "requests", "assigned"],
    queryFn: () => get<Page<RequestSummary>>(`/v1/branches/${encodeURIComponent(branchId)}/requests?status=assigned&limit=50`),
    refetchInterval: SAFETY_POLL_MS,
  });
}

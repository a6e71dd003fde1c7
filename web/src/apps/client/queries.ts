/**
 * The client app's reads and their cache keys. The socket (useClientLive) writes into the same
 * entries, so a screen shows an update the moment it arrives, and re-reads them after a reconnect.
 */
import { type QueryClient, useQuery } from "@tanstack/react-query";
import { ApiError, get } from "../../api/client.ts";
import type { ChatMessage, Page, RequestSummary } from "../../api/types.ts";
import { withMessage } from "../../components/chat/withMessage.ts";
import type { RequestView, WaitEstimate } from "./types.ts";

export const keys = {
  request: (id: string) => ["client", "request", id] as const,
  messages: (id: string) => ["client", "messages", id] as const,
  wait: (id: string, status: string, stage: string) => ["client", "wait", id, status, stage] as const,
  history: ["client", "history"] as const,
};

export function useRequest(id: string) {
  return useQuery({
    queryKey: keys.request(id),
    queryFn: () => get<RequestView>(`/v1/requests/${encodeURIComponent(id)}`),
    // A read answered after a newer socket update must not take the screen back.
    structuralSharing: (old, next) => newerView(old as RequestView | undefined, next as RequestView),
  });
}

export function useMessages(id: string) {
  return useQuery({
    queryKey: keys.messages(id),
    queryFn: async () => (await get<{ messages: ChatMessage[] }>(`/v1/requests/${encodeURIComponent(id)}/messages`)).messages,
  });
}

/**
 * The wait estimate, read again whenever the status or stage changes. null: the server has none to
 * give (a 404, e.g. a server without the route); the screen then says so rather than guess.
 */
export function useWaitEstimate(request: RequestView) {
  return useQuery({
    queryKey: keys.wait(request.id, request.status, request.stage),
    queryFn: async () => {
      try {
        return await get<WaitEstimate>(`/v1/requests/${encodeURIComponent(request.id)}/wait-estimate`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
    refetchInterval: 30_000,
  });
}

export function useHistory() {
  return useQuery({ queryKey: keys.history, queryFn: () => get<Page<RequestSummary>>("/v1/requests?limit=5") });
}

/**
 * Keeps the newer of two views of one request. The socket's view is read when the update is sent
 * and a GET's when it is answered, so they can arrive out of order; a request's timeline only ever
 * grows and an ended request never starts again, so the one with the shorter timeline is older.
 */
export function newerView(current: RequestView | undefined, incoming: RequestView): RequestView {
  if (!current) return incoming;
  const ended = (v: RequestView) => v.status === "completed" || v.status === "cancelled" || v.status === "expired";
  if (ended(current) && !ended(incoming)) return current;
  return incoming.timeline.length >= current.timeline.length ? incoming : current;
}

/** Adds a message to the cached conversation once, in seq order. */
export function addMessage(queryClient: QueryClient, message: ChatMessage): void {
  const key = keys.messages(message.requestId);
  // Not read yet, or the first read is still on its way (and may have missed this one): read again.
  if (!queryClient.getQueryData(key)) {
    void queryClient.invalidateQueries({ queryKey: key });
    return;
  }
  queryClient.setQueryData<ChatMessage[]>(key, (old) => old && withMessage(old, message));
}

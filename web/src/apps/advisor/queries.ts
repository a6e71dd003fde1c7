/** The advisor app's reads, with their query keys: all of them live under ["advisor"], so a reconnect refreshes them at once. */
import type { QueryClient } from "@tanstack/react-query";
import { get } from "../../api/client.ts";
import type { Page } from "../../api/types.ts";
import { withMessage } from "../../components/chat/withMessage.ts";
import type { Earnings, Me, Message, Offer, RequestSummary, RequestView } from "./types.ts";

export const advisorKeys = {
  all: ["advisor"] as const,
  me: ["advisor", "me"] as const,
  earnings: ["advisor", "earnings"] as const,
  assigned: ["advisor", "requests", "assigned"] as const,
  request: (id: string) => ["advisor", "request", id] as const,
  messages: (id: string) => ["advisor", "messages", id] as const,
};

export const readMe = () => get<Me>("/v1/advisors/me");
export const readEarnings = () => get<Earnings>("/v1/advisors/me/earnings");
export const readOffers = () => get<Offer[]>("/v1/advisors/me/offers");
/** Open conversations: a page is far more than anyone's maxConcurrent. */
export const readAssigned = () => get<Page<RequestSummary>>("/v1/advisors/me/requests?status=assigned&limit=50");
export const readRequest = (id: string) => get<RequestView>(`/v1/requests/${encodeURIComponent(id)}`);
export const readMessages = (id: string) => get<{ messages: Message[] }>(`/v1/requests/${encodeURIComponent(id)}/messages`);

/** Adds a message to its conversation's cached list, once, in seq order (the socket and the send's answer both bring it). */
export function addMessage(queryClient: QueryClient, message: Message): void {
  queryClient.setQueryData(advisorKeys.messages(message.requestId), (current: { messages: Message[] } | undefined) =>
    current ? { messages: withMessage(current.messages, message) } : current,
  );
}

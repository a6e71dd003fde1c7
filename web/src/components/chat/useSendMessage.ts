/**
 * Sending one chat message (POST /v1/requests/{id}/messages), for the advisor and the client app
 * alike. Each message is posted with its own Idempotency-Key, kept across retries of the same text
 * and replaced once it is stored or the text is edited, so a send retried after a lost answer is
 * stored once.
 */
import { type QueryKey, useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { api } from "../../api/client.ts";
import { newIdempotencyKey } from "../../api/idempotency.ts";
import type { ChatMessage } from "../../api/types.ts";

export interface SendMessageOptions {
  /** The app's cache key of the request, read again when a send is refused. */
  requestKey: QueryKey;
  /** The stored message, to add to the app's cached conversation. */
  onSent(message: ChatMessage): void;
}

export function useSendMessage(requestId: string, { requestKey, onSent }: SendMessageOptions) {
  const queryClient = useQueryClient();
  const pending = useRef<{ body: string; key: string } | null>(null);
  return useMutation({
    mutationFn: (text: string) => {
      if (pending.current?.body !== text) pending.current = { body: text, key: newIdempotencyKey() };
      return api<ChatMessage>("POST", `/v1/requests/${encodeURIComponent(requestId)}/messages`, { body: text }, { idempotencyKey: pending.current.key });
    },
    onSuccess: (message) => {
      pending.current = null;
      onSent(message);
    },
    // A refusal (the conversation closed) means the request moved on: show where it is now.
    onError: () => queryClient.invalidateQueries({ queryKey: requestKey }),
  });
}

/**
 * Writing to the client. Each message is posted with its own Idempotency-Key, kept until it is
 * stored (and replaced if the text is edited), so a send retried after a lost answer is stored once.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { api } from "../../../api/client.ts";
import { newIdempotencyKey } from "../../../api/idempotency.ts";
import { ErrorNotice } from "../../../components/ErrorNotice.tsx";
import { addMessage, advisorKeys } from "../queries.ts";
import type { Message } from "../types.ts";

export function Composer({ requestId }: { requestId: string }) {
  const queryClient = useQueryClient();
  const [body, setBody] = useState("");
  const pending = useRef<{ body: string; key: string } | null>(null);
  const send = useMutation({
    mutationFn: (text: string) => {
      if (pending.current?.body !== text) pending.current = { body: text, key: newIdempotencyKey() };
      return api<Message>("POST", `/v1/requests/${encodeURIComponent(requestId)}/messages`, { body: text }, { idempotencyKey: pending.current.key });
    },
    onSuccess: (message) => {
      pending.current = null;
      addMessage(queryClient, message);
      setBody("");
    },
    // A refusal (the conversation closed) means the request moved on: show where it is now.
    onError: () => queryClient.invalidateQueries({ queryKey: advisorKeys.request(requestId) }),
  });
  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        if (body.trim()) send.mutate(body);
      }}
    >
      <label htmlFor="composer-body">Message to your client</label>
      <div className="composer-row">
        <textarea id="composer-body" name="body" rows={2} maxLength={4000} value={body} onChange={(e) => setBody(e.target.value)} />
        <button type="submit" className="primary" disabled={send.isPending || !body.trim()}>
          Send
        </button>
      </div>
      {send.error && <ErrorNotice error={send.error} title="Your message was not sent" />}
    </form>
  );
}

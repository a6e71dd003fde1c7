/**
 * The recorded conversation: what is stored (GET), new messages as the socket delivers them, and,
 * while the advisor is assigned, a composer. Each message is posted with its own Idempotency-Key,
 * kept until it is stored, so a send retried after a dropped answer is stored once.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api } from "../../api/client.ts";
import { newIdempotencyKey } from "../../api/idempotency.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { addMessage, keys, useMessages } from "./queries.ts";
import type { ChatMessage } from "../../api/types.ts";
import type { RequestView } from "./types.ts";

function MessageList({ messages, advisorName }: { messages: ChatMessage[]; advisorName: string }) {
  const list = useRef<HTMLOListElement>(null);
  // The newest message in view as it arrives (not on first render, which keeps the page's top).
  const seen = useRef(messages.length);
  useEffect(() => {
    if (messages.length > seen.current) list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
    seen.current = messages.length;
  }, [messages.length]);
  return (
    // A log: screen readers announce what is added at the end, not the whole list again.
    <div role="log" aria-labelledby="chat-title" className="client-log">
      {messages.length === 0 && <p className="muted">No messages yet. Say hello.</p>}
      <ol ref={list} className="client-messages" data-testid="messages">
        {messages.map((m) => {
          const mine = m.senderRole === "client";
          return (
            <li key={m.id} data-testid="message" data-sender-role={m.senderRole} className={mine ? "client-message mine" : "client-message theirs"}>
              <span className="client-message-from">{mine ? "You" : advisorName}</span>
              <span className="client-message-body">{m.body}</span>
              <time className="client-message-time" dateTime={m.sentAt}>
                {new Date(m.sentAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
              </time>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function Composer({ requestId }: { requestId: string }) {
  const queryClient = useQueryClient();
  const [body, setBody] = useState("");
  // One key per message: kept across retries of the same text, replaced once it is stored or edited.
  const pending = useRef<{ body: string; key: string } | null>(null);
  const send = useMutation({
    mutationFn: (text: string) => {
      if (pending.current?.body !== text) pending.current = { body: text, key: newIdempotencyKey() };
      return api<ChatMessage>("POST", `/v1/requests/${encodeURIComponent(requestId)}/messages`, { body: text }, { idempotencyKey: pending.current.key });
    },
    onSuccess: (message) => {
      pending.current = null;
      addMessage(queryClient, message);
      setBody("");
    },
    // A refusal (the conversation closed) means the request moved on: show where it is now.
    onError: () => queryClient.invalidateQueries({ queryKey: keys.request(requestId) }),
  });
  return (
    <form
      className="client-composer"
      data-testid="composer"
      onSubmit={(e) => {
        e.preventDefault();
        if (body.trim()) send.mutate(body);
      }}
    >
      <label htmlFor="chat-body">Message</label>
      <div className="client-composer-row">
        <textarea id="chat-body" name="body" rows={2} maxLength={4000} value={body} onChange={(e) => setBody(e.target.value)} />
        <button type="submit" className="primary" data-testid="send" disabled={send.isPending || !body.trim()}>
          Send
        </button>
      </div>
      {send.error && <ErrorNotice error={send.error} title="Your message was not sent" />}
    </form>
  );
}

export function Chat({ request }: { request: RequestView }) {
  const messages = useMessages(request.id);
  const open = request.status === "assigned";
  return (
    <section aria-labelledby="chat-title" className="client-card client-chat" data-testid="chat">
      <h2 id="chat-title">Conversation</h2>
      {messages.error && <ErrorNotice error={messages.error} title="The conversation could not be loaded" />}
      {messages.isPending ? <p>Loading…</p> : <MessageList messages={messages.data ?? []} advisorName={request.advisor?.name ?? "Advisor"} />}
      {open ? <Composer requestId={request.id} /> : <p className="muted">The conversation is closed.</p>}
    </section>
  );
}

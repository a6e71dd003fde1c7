/**
 * The recorded conversation: what is stored (GET), new messages as the socket delivers them, and,
 * while the advisor is assigned, a composer (web/src/components/chat: one Idempotency-Key per
 * message, so a send retried after a dropped answer is stored once).
 */
import { useQueryClient } from "@tanstack/react-query";
import { ChatComposer } from "../../components/chat/ChatComposer.tsx";
import { ChatLog } from "../../components/chat/ChatLog.tsx";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { addMessage, keys, useMessages } from "./queries.ts";
import type { RequestView } from "./types.ts";

const TEST_IDS = { form: "composer", send: "send" };

export function Chat({ request }: { request: RequestView }) {
  const queryClient = useQueryClient();
  const messages = useMessages(request.id);
  const open = request.status === "assigned";
  return (
    <section aria-labelledby="chat-title" className="client-card client-chat" data-testid="chat">
      <h2 id="chat-title">Conversation</h2>
      {messages.error && <ErrorNotice error={messages.error} title="The conversation could not be loaded" />}
      {messages.isPending ? (
        <p>Loading…</p>
      ) : (
        <ChatLog
          messages={messages.data ?? []}
          mine="client"
          theirName={request.advisor?.name ?? "Advisor"}
          emptyText="No messages yet. Say hello."
          name={{ "aria-labelledby": "chat-title" }}
        />
      )}
      {open ? (
        <ChatComposer
          requestId={request.id}
          requestKey={keys.request(request.id)}
          onSent={(message) => addMessage(queryClient, message)}
          label="Message"
          inputId="chat-body"
          testIds={TEST_IDS}
        />
      ) : (
        <p className="muted">The conversation is closed.</p>
      )}
    </section>
  );
}

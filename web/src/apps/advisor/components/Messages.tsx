/** The recorded chat, oldest first. A log: screen readers announce what is added, not the whole list again. */
import { useEffect, useRef } from "react";
import type { Message } from "../types.ts";

export function Messages({ messages }: { messages: Message[] }) {
  const list = useRef<HTMLOListElement>(null);
  // The newest message into view as it arrives (not on first render, which keeps the page's top).
  const seen = useRef(messages.length);
  useEffect(() => {
    if (messages.length > seen.current) list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
    seen.current = messages.length;
  }, [messages.length]);
  return (
    <div role="log" aria-label="Messages" className="chat-log">
      {messages.length === 0 && <p className="muted">No messages yet. Say hello to your client.</p>}
      <ol ref={list} className="chat-messages" data-testid="messages">
        {messages.map((m) => {
          const mine = m.senderRole === "advisor";
          return (
            <li key={m.id} className={mine ? "chat-message chat-mine" : "chat-message chat-theirs"} data-testid="message" data-sender-role={m.senderRole}>
              <span className="chat-from">{mine ? "You" : "Client"}</span>
              <span className="chat-body">{m.body}</span>
              <time className="chat-time" dateTime={m.sentAt}>
                {new Date(m.sentAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
              </time>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

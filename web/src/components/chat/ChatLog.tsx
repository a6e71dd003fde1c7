/**
 * The recorded chat, oldest first, in the advisor and the client app. A log: screen readers announce
 * what is added at the end, not the whole list again.
 */
import { useEffect, useRef } from "react";
import type { ChatMessage } from "../../api/types.ts";
import "./chat.css";

export interface ChatLogProps {
  messages: ChatMessage[];
  /** The sender role of this app's user: their messages are "You", on the right. */
  mine: "advisor" | "client";
  /** How the other side is named above their messages. */
  theirName: string;
  /** What the log says while there is no message. */
  emptyText: string;
  /** The log's accessible name: a label of its own, or the id of the heading that names it. */
  name: { "aria-label": string } | { "aria-labelledby": string };
}

export function ChatLog({ messages, mine, theirName, emptyText, name }: ChatLogProps) {
  const list = useRef<HTMLOListElement>(null);
  // The newest message into view as it arrives (not on first render, which keeps the page's top).
  const seen = useRef(messages.length);
  useEffect(() => {
    if (messages.length > seen.current) list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
    seen.current = messages.length;
  }, [messages.length]);
  return (
    <div role="log" {...name} className="chat-log">
      {messages.length === 0 && <p className="muted">{emptyText}</p>}
      <ol ref={list} className="chat-messages" data-testid="messages">
        {messages.map((m) => {
          const own = m.senderRole === mine;
          return (
            <li key={m.id} className={own ? "chat-message chat-mine" : "chat-message chat-theirs"} data-testid="message" data-sender-role={m.senderRole}>
              <span className="chat-from">{own ? "You" : theirName}</span>
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

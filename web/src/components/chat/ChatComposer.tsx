/** The form a message is written in, sent with useSendMessage; each app gives its own words, ids and test ids. */
import type { QueryKey } from "@tanstack/react-query";
import { useState } from "react";
import type { ChatMessage } from "../../api/types.ts";
import { ErrorNotice } from "../ErrorNotice.tsx";
import { useSendMessage } from "./useSendMessage.ts";
import "./chat.css";

export interface ChatComposerProps {
  requestId: string;
  /** The app's cache key of the request, read again when a send is refused. */
  requestKey: QueryKey;
  /** The stored message, to add to the app's cached conversation. */
  onSent(message: ChatMessage): void;
  /** The text field's label, and its id. */
  label: string;
  inputId: string;
  /** data-testid of the form and of its Send button, where the app's tests look for them. */
  testIds?: { form: string; send: string };
}

export function ChatComposer({ requestId, requestKey, onSent, label, inputId, testIds }: ChatComposerProps) {
  const [body, setBody] = useState("");
  const send = useSendMessage(requestId, {
    requestKey,
    onSent: (message) => {
      onSent(message);
      setBody("");
    },
  });
  return (
    <form
      className="composer"
      data-testid={testIds?.form}
      onSubmit={(e) => {
        e.preventDefault();
        if (body.trim()) send.mutate(body);
      }}
    >
      <label htmlFor={inputId}>{label}</label>
      <div className="composer-row">
        <textarea id={inputId} name="body" rows={2} maxLength={4000} value={body} onChange={(e) => setBody(e.target.value)} />
        <button type="submit" className="primary" data-testid={testIds?.send} disabled={send.isPending || !body.trim()}>
          Send
        </button>
      </div>
      {send.error && <ErrorNotice error={send.error} title="Your message was not sent" />}
    </form>
  );
}

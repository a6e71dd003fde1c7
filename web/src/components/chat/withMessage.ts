import type { ChatMessage } from "../../api/types.ts";

/**
 * The conversation with `message` added once, in seq order: the socket and the send's answer both
 * bring it, in either order. The same list when it is already there.
 */
export function withMessage(messages: ChatMessage[], message: ChatMessage): ChatMessage[] {
  if (messages.some((m) => m.id === message.id)) return messages;
  return [...messages, message].sort((a, b) => a.seq - b.seq);
}

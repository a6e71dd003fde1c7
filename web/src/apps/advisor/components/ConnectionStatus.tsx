/** Whether offers can reach this phone right now: the socket's state, in words. */
import type { SocketStatus } from "../../../live/useSocket.ts";

const WORDS: Record<SocketStatus, string> = {
  connecting: "Connecting…",
  live: "Live: offers arrive as they are made",
  reconnecting: "Connection lost: reconnecting…",
  offline: "Offline: offers made meanwhile will show when you are back online",
};

export function ConnectionStatus({ status }: { status: SocketStatus }) {
  return (
    <p role="status" className={`connection connection-${status}`} data-testid="connection-status" data-status={status}>
      <span className="connection-dot" aria-hidden="true" />
      {WORDS[status]}
    </p>
  );
}

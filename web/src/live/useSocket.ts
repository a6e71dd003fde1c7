/**
 * The one realtime socket on /v1/ws for the signed-in user, shared by the console's branch feed and
 * the advisor and client apps. It reconnects after a drop with exponential backoff and full jitter
 * (so a server restart is not met by every phone at the same instant), stays down while the browser
 * says it is offline and reconnects as soon as it is back, and calls `onOpen` on every (re)connect:
 * messages sent while the socket was down are lost, so the caller re-reads what it shows then.
 *
 * The socket only delivers; everything the user does goes over HTTP (the server answers a sent frame
 * with a RECEIVE_ONLY error).
 */
import { useEffect, useRef, useState } from "react";

export type SocketStatus = "connecting" | "live" | "reconnecting" | "offline";

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

/** The token travels as the offered subprotocol, not in the URL, so proxies' access logs never hold it. */
function socketUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/v1/ws`;
}

/** Full jitter: anywhere between 0 and the capped exponential delay for this attempt. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt));
}

export interface SocketHandlers {
  /** Every parsed message (objects with a string `type`; anything else is dropped). */
  onMessage(message: { type: string } & Record<string, unknown>): void;
  /** After each successful (re)connect: re-read what may have been missed. */
  onOpen?(): void;
}

export function useSocket(token: string | null, handlers: SocketHandlers): SocketStatus {
  const [status, setStatus] = useState<SocketStatus>(() => (navigator.onLine ? "connecting" : "offline"));
  // The latest handlers, without reconnecting when a render makes new ones.
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(() => {
    if (!token) return;
    let socket: WebSocket | null = null;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;

    const connect = () => {
      clearTimeout(timer);
      if (stopped || socket) return;
      if (!navigator.onLine) {
        setStatus("offline");
        return;
      }
      const current = new WebSocket(socketUrl(), [token]);
      socket = current;
      current.onopen = () => {
        attempt = 0;
        setStatus("live");
        latest.current.onOpen?.();
      };
      current.onmessage = (event) => {
        let message: unknown;
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (message && typeof message === "object" && typeof (message as { type?: unknown }).type === "string")
          latest.current.onMessage(message as { type: string } & Record<string, unknown>);
      };
      current.onclose = () => {
        if (socket !== current) return;
        socket = null;
        if (stopped) return;
        if (!navigator.onLine) {
          setStatus("offline");
          return;
        }
        setStatus("reconnecting");
        timer = setTimeout(connect, retryDelayMs(attempt++));
      };
    };
    // A socket can outlive the network for a while without noticing; the browser's word ends it at once.
    const wentOffline = () => {
      setStatus("offline");
      const current = socket;
      socket = null;
      current?.close();
    };
    const cameOnline = () => {
      attempt = 0;
      connect();
    };
    window.addEventListener("offline", wentOffline);
    window.addEventListener("online", cameOnline);
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener("offline", wentOffline);
      window.removeEventListener("online", cameOnline);
      socket?.close();
    };
  }, [token]);

  return status;
}

/**
 * The live branch feed: one socket on /v1/ws for the signed-in user. Each `branch.activity` or
 * `branch.snapshot` for the branch on screen invalidates the branch's queries, so the board refetches
 * what changed instead of polling; the latest snapshot's counts are kept for display. A dropped
 * socket reconnects with a growing delay, and refetches on reconnect, since messages may have been missed.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { BranchFeedMessage } from "../api/types.ts";

export type FeedStatus = "connecting" | "live" | "reconnecting";
export type Snapshot = Extract<BranchFeedMessage, { type: "branch.snapshot" }>;
export type Activity = Extract<BranchFeedMessage, { type: "branch.activity" }>;

const MAX_RETRY_MS = 15_000;

export const branchKey = (branchId: string) => ["branch", branchId] as const;

/** The token travels as the offered subprotocol, not in the URL, so proxies' access logs never hold it. */
function socketUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/v1/ws`;
}

export function useBranchFeed(token: string, branchId: string) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<FeedStatus>("connecting");
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [lastActivity, setLastActivity] = useState<Activity | null>(null);

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retryMs = 500;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const refresh = () => void queryClient.invalidateQueries({ queryKey: branchKey(branchId) });
    const connect = () => {
      socket = new WebSocket(socketUrl(), [token]);
      socket.onopen = () => {
        retryMs = 500;
        setStatus("live");
        refresh();
      };
      socket.onmessage = (event) => {
        let message: BranchFeedMessage;
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (message.branchId !== branchId) return;
        if (message.type === "branch.snapshot") setSnapshot(message);
        else if (message.type === "branch.activity") setLastActivity(message);
        else return;
        refresh();
      };
      socket.onclose = () => {
        if (stopped) return;
        setStatus("reconnecting");
        timer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close();
    };
  }, [token, branchId, queryClient]);

  return { status, snapshot, lastActivity };
}

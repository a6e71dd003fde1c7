/**
 * The live branch feed on the user's socket (useSocket). Each `branch.activity` or `branch.snapshot`
 * for the branch on screen invalidates the branch's queries, so the board refetches what changed
 * instead of polling; the latest snapshot's counts are kept for display. On every (re)connect the
 * branch is refetched, since messages may have been missed while the socket was down.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { BranchFeedMessage } from "../api/types.ts";
import { useSocket } from "./useSocket.ts";

export type FeedStatus = "connecting" | "live" | "reconnecting" | "offline";
export type Snapshot = Extract<BranchFeedMessage, { type: "branch.snapshot" }>;
export type Activity = Extract<BranchFeedMessage, { type: "branch.activity" }>;

export const branchKey = (branchId: string) => ["branch", branchId] as const;

export function useBranchFeed(token: string, branchId: string) {
  const queryClient = useQueryClient();
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [lastActivity, setLastActivity] = useState<Activity | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: branchKey(branchId) });
  const status = useSocket(token, {
    onOpen: refresh,
    onMessage: (raw) => {
      const message = raw as unknown as BranchFeedMessage;
      if (message.branchId !== branchId) return;
      if (message.type === "branch.snapshot") setSnapshot(message);
      else if (message.type === "branch.activity") setLastActivity(message);
      else return;
      refresh();
    },
  });
  return { status, snapshot, lastActivity };
}

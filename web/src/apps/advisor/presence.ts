/**
 * The advisor's presence: available or away, chosen with the toggle and remembered on the device.
 * PUT /v1/advisors/me/presence is also the heartbeat: the server forgets a presence 45 s after its
 * last report, so the app repeats it every HEARTBEAT_MS while it is open, and at once after the socket
 * (re)connects, since heartbeats sent while offline were lost. Signing out reports offline first.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError } from "../../api/client.ts";
import type { SocketStatus } from "../../live/useSocket.ts";
import type { Presence } from "./types.ts";

/** Well inside the server's 45 s presence TTL: one lost heartbeat does not make the advisor offline. */
export const HEARTBEAT_MS = 20_000;
const PRESENCE_KEY = "adx.advisor.presence";

export type Chosen = Exclude<Presence, "offline">;

function storedChoice(): Chosen {
  return localStorage.getItem(PRESENCE_KEY) === "away" ? "away" : "available";
}

export interface PresenceState {
  chosen: Chosen;
  /** What the server last recorded, and when; null until the first report is answered. */
  reported: { status: Presence; heartbeatAt: string } | null;
  /** The last report's refusal (a network failure is the socket status's to show, not this). */
  problem: ApiError | null;
  choose(next: Chosen): void;
  /** Reports offline, for signing out; resolves whatever the answer. */
  goOffline(): Promise<void>;
}

export function usePresence(socketStatus: SocketStatus): PresenceState {
  const [chosen, setChosen] = useState<Chosen>(storedChoice);
  const [reported, setReported] = useState<PresenceState["reported"]>(null);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const latest = useRef(chosen);
  latest.current = chosen;

  const report = useCallback(async (status: Presence) => {
    try {
      setReported(await api<{ status: Presence; heartbeatAt: string }>("PUT", "/v1/advisors/me/presence", { status }));
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof ApiError && error.code !== "NETWORK" ? error : null);
    }
  }, []);

  // At once when the choice changes, then as the heartbeat.
  useEffect(() => {
    void report(chosen);
    const timer = setInterval(() => void report(latest.current), HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [chosen, report]);

  useEffect(() => {
    if (socketStatus === "live") void report(latest.current);
  }, [socketStatus, report]);

  const choose = useCallback((next: Chosen) => {
    localStorage.setItem(PRESENCE_KEY, next);
    setChosen(next);
  }, []);
  const goOffline = useCallback(() => report("offline"), [report]);
  return { chosen, reported, problem, choose, goOffline };
}

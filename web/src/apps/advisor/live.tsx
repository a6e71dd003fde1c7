/**
 * The advisor's live state, for every screen: the socket (useSocket), the offer cards, surge alerts,
 * and a polite announcement for screen readers. After each (re)connect it re-reads the open offers
 * and every advisor query, so nothing sent while the socket was down is missed. Messages of a
 * conversation go straight into that conversation's cached list.
 */
import { useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useReducer, useRef, useState } from "react";
import { useSession } from "../../auth/session.tsx";
import { useSignOut } from "../../auth/useSignOut.ts";
import { type SocketStatus, useSocket } from "../../live/useSocket.ts";
import { announceOffer } from "./alerting.ts";
import { useOfferActions } from "./offerActions.ts";
import { nextTickAt, offersReducer, type ShownOffer, WITHDRAWN_WORDS } from "./offers.ts";
import { addMessage, advisorKeys, readOffers } from "./queries.ts";
import type { AdvisorSocketMessage, DemandAlert } from "./types.ts";

/** Surge alerts kept on screen, newest first. */
const ALERTS_SHOWN = 5;

export interface ReceivedAlert extends DemandAlert {
  receivedAt: number;
}

export interface Live {
  status: SocketStatus;
  offers: ShownOffer[];
  alerts: ReceivedAlert[];
  announcement: string;
  accept(offer: ShownOffer): Promise<void>;
  decline(offer: ShownOffer): Promise<void>;
}

const LiveContext = createContext<Live | null>(null);

export function useLive(): Live {
  const live = useContext(LiveContext);
  if (!live) throw new Error("useLive outside LiveProvider");
  return live;
}

/** Runs the offers' clock: one timer, for the next moment a card changes (withdrawn time up, or long expired). */
function useOfferClock(offers: ShownOffer[], tick: (now: number) => void) {
  useEffect(() => {
    const at = nextTickAt(offers);
    if (at === null) return;
    const timer = setTimeout(() => tick(Date.now()), Math.max(0, at - Date.now()) + 20);
    return () => clearTimeout(timer);
  }, [offers, tick]);
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const { token } = useSession();
  const signOut = useSignOut();
  const queryClient = useQueryClient();
  const [offers, dispatch] = useReducer(offersReducer, []);
  const [alerts, setAlerts] = useState<ReceivedAlert[]>([]);
  const [announcement, setAnnouncement] = useState("");
  const known = useRef(new Set<string>());
  known.current = new Set(offers.map((o) => o.offerId));

  const say = useCallback((text: string) => setAnnouncement(text), []);
  const tick = useCallback((now: number) => dispatch({ type: "tick", now }), []);
  useOfferClock(offers, tick);
  const { accept, decline } = useOfferActions(dispatch, say);

  const resync = useCallback(async () => {
    const startedAt = Date.now();
    void queryClient.invalidateQueries({ queryKey: advisorKeys.all });
    try {
      const open = await readOffers();
      if (open.some((o) => !known.current.has(o.offerId))) announceOffer();
      dispatch({ type: "synced", offers: open, startedAt, at: Date.now() });
    } catch {
      // The socket is up but the read failed: the next reconnect, or the socket's re-sent offers, cover it.
    }
  }, [queryClient]);

  const onMessage = (raw: { type: string } & Record<string, unknown>) => {
    const message = raw as unknown as AdvisorSocketMessage;
    switch (message.type) {
      case "offer":
        if (known.current.has(message.offer.offerId)) return;
        known.current.add(message.offer.offerId);
        announceOffer();
        say(`New ${message.offer.kind === "push" ? "offer" : "request to grab"}: ${message.offer.topic}`);
        dispatch({ type: "received", offer: message.offer, at: Date.now() });
        return;
      case "offer.withdrawn":
        if (known.current.has(message.offerId)) say(`Offer withdrawn: ${WITHDRAWN_WORDS[message.reason] ?? WITHDRAWN_WORDS.withdrawn}`);
        dispatch({ type: "withdrawn", offerId: message.offerId, reason: message.reason in WITHDRAWN_WORDS ? message.reason : "withdrawn", at: Date.now() });
        return;
      case "request.assigned":
        for (const o of offers) if (o.requestId === message.requestId && !o.withdrawn) dispatch({ type: "removed", offerId: o.offerId });
        void queryClient.invalidateQueries({ queryKey: advisorKeys.all });
        return;
      case "message":
        addMessage(queryClient, message.message);
        return;
      case "demand.alert":
        say(`Demand alert: ${message.waiting} clients waiting`);
        setAlerts((current) => [{ ...message, receivedAt: Date.now() }, ...current].slice(0, ALERTS_SHOWN));
        return;
      case "session.revoked":
        signOut();
        return;
    }
  };

  const status = useSocket(token, { onMessage, onOpen: () => void resync() });
  const value = useMemo(() => ({ status, offers, alerts, announcement, accept, decline }), [status, offers, alerts, announcement, accept, decline]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

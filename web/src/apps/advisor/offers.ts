/**
 * The offer cards on the advisor's screen, as a reducer: offers arrive over the socket (possibly
 * twice: the hub re-sends open offers on connect) and from re-reading GET /v1/advisors/me/offers
 * after each (re)connect; they end by being accepted, declined, or withdrawn. A withdrawn card stays
 * for WITHDRAWN_VISIBLE_MS with the reason in words, so an advisor who was about to tap it learns why
 * it went instead of seeing it vanish under their thumb.
 */
import type { Offer, WithdrawReason } from "./types.ts";

export const WITHDRAWN_VISIBLE_MS = 8_000;
/**
 * How long past its expiry a card waits for the server's word (offer.withdrawn timed_out) before
 * calling itself expired: the socket may be down, and the two clocks may differ by a little.
 */
export const EXPIRY_GRACE_MS = 3_000;

export interface ShownOffer extends Offer {
  /** When this screen learnt of it (ms), to tell a re-read that started earlier from a newer arrival. */
  receivedAt: number;
  /** inferred: from a refusal of our answer, which the server's own word (offer.withdrawn) corrects. */
  withdrawn: { reason: WithdrawReason; at: number; inferred: boolean } | null;
  /** An answer is on its way. */
  busy: boolean;
  /** The last refusal that left the offer open (AT_CAPACITY, NOT_ELIGIBLE, a network failure). */
  problem: string | null;
}

export type OffersAction =
  | { type: "received"; offer: Offer; at: number }
  /** A re-read: `offers` is everything open as of `startedAt`. */
  | { type: "synced"; offers: Offer[]; startedAt: number; at: number }
  | { type: "withdrawn"; offerId: string; reason: WithdrawReason; at: number; inferred?: boolean }
  | { type: "answering"; offerId: string }
  | { type: "problem"; offerId: string; problem: string }
  | { type: "removed"; offerId: string }
  /** Drops cards whose withdrawn time is up, and calls expired the ones long past their expiry. */
  | { type: "tick"; now: number };

export const WITHDRAWN_WORDS: Record<WithdrawReason, string> = {
  lost_race: "Another advisor took it",
  timed_out: "Expired",
  withdrawn: "Withdrawn",
  gone: "No longer open",
};

const byExpiry = (a: ShownOffer, b: ShownOffer) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt);
const fresh = (offer: Offer, at: number): ShownOffer => ({ ...offer, receivedAt: at, withdrawn: null, busy: false, problem: null });
const update = (offers: ShownOffer[], offerId: string, change: (o: ShownOffer) => ShownOffer) => offers.map((o) => (o.offerId === offerId ? change(o) : o));
function withdraw(o: ShownOffer, reason: WithdrawReason, at: number, inferred = true): ShownOffer {
  if (o.withdrawn && (inferred || !o.withdrawn.inferred)) return o;
  return { ...o, busy: false, withdrawn: { reason, at: o.withdrawn?.at ?? at, inferred } };
}

function synced(offers: ShownOffer[], open: Offer[], startedAt: number, at: number): ShownOffer[] {
  const openIds = new Set(open.map((o) => o.offerId));
  // A card the re-read does not list ended while we were not listening; one that arrived after the
  // read began may simply be newer than it.
  const kept = offers.map((o) => (!openIds.has(o.offerId) && o.receivedAt <= startedAt ? withdraw(o, "gone", at) : o));
  const known = new Set(kept.map((o) => o.offerId));
  return [...kept, ...open.filter((o) => !known.has(o.offerId)).map((o) => fresh(o, at))].sort(byExpiry);
}

function ticked(offers: ShownOffer[], now: number): ShownOffer[] {
  return offers
    .filter((o) => !o.withdrawn || o.withdrawn.at + WITHDRAWN_VISIBLE_MS > now)
    .map((o) => (!o.withdrawn && Date.parse(o.expiresAt) + EXPIRY_GRACE_MS <= now ? withdraw(o, "timed_out", now) : o));
}

export function offersReducer(offers: ShownOffer[], action: OffersAction): ShownOffer[] {
  switch (action.type) {
    case "received":
      // The same offer twice (sent, then re-sent on connect) is one card.
      if (offers.some((o) => o.offerId === action.offer.offerId)) return offers;
      return [...offers, fresh(action.offer, action.at)].sort(byExpiry);
    case "synced":
      return synced(offers, action.offers, action.startedAt, action.at);
    case "withdrawn":
      return update(offers, action.offerId, (o) => withdraw(o, action.reason, action.at, action.inferred ?? false));
    case "answering":
      return update(offers, action.offerId, (o) => ({ ...o, busy: true, problem: null }));
    case "problem":
      return update(offers, action.offerId, (o) => ({ ...o, busy: false, problem: action.problem }));
    case "removed":
      return offers.filter((o) => o.offerId !== action.offerId);
    case "tick": {
      const next = ticked(offers, action.now);
      const changed = next.length !== offers.length || next.some((o, i) => o !== offers[i]);
      return changed ? next : offers;
    }
  }
}

/** When the next tick can change something (a withdrawn card to drop, an offer to call expired), or null. */
export function nextTickAt(offers: ShownOffer[]): number | null {
  const times = offers.map((o) => (o.withdrawn ? o.withdrawn.at + WITHDRAWN_VISIBLE_MS : Date.parse(o.expiresAt) + EXPIRY_GRACE_MS));
  return times.length ? Math.min(...times) : null;
}

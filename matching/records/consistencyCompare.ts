/**
 * Field-by-field comparison of one request as the live store holds it with the same request as
 * PostgreSQL records it. Pure: the caller (consistency.ts) reads both sides.
 */
import type { OfferKind, OfferOutcome, RequestStatus } from "../domain/types.ts";
import type { LiveRequest, OfferState } from "../store/port.ts";

/** One field on which the store and the record disagree. Values are as each side holds them (times in epoch ms). */
export interface Divergence {
  requestId: string;
  /** "request" when one side lacks it; "status", "stageIndex", ...; "offers.<offerId>" or "offers.<offerId>.<field>" for offers. */
  field: string;
  live: unknown;
  recorded: unknown;
}

/** A ServiceRequest row with its Offer rows, reduced to what the live store also holds. */
export interface RecordedRequest {
  id: string;
  status: RequestStatus;
  stageIndex: number;
  assignedAdvisorId: string | null;
  callbackRequested: boolean;
  offers: RecordedOffer[];
}

export type RecordedOffer = Pick<OfferState, "id" | "advisorId" | "stageIndex" | "sentAt" | "expiresAt" | "respondedAt"> & {
  kind: OfferKind;
  outcome: OfferOutcome | null;
};

const TERMINAL: readonly RequestStatus[] = ["completed", "cancelled", "expired"];
export const isTerminal = (status: RequestStatus) => TERMINAL.includes(status);

const REQUEST_FIELDS = ["status", "stageIndex", "assignedAdvisorId", "callbackRequested"] as const;
const OFFER_FIELDS = ["advisorId", "kind", "stageIndex", "outcome", "sentAt", "expiresAt", "respondedAt"] as const;

/**
 * Every divergence for one request id. `live` is what store.getRequest answered (terminal requests
 * included while the store retains them); `recorded` the row, or null when there is none.
 */
export function compareRequest(requestId: string, live: LiveRequest | null, recorded: RecordedRequest | null): Divergence[] {
  if (!live && !recorded) return [];
  if (!live) {
    // The store drops terminal requests after its retention period: only a live row is missing.
    return isTerminal(recorded!.status) ? [] : [{ requestId, field: "request", live: null, recorded: recorded!.status }];
  }
  if (!recorded) return [{ requestId, field: "request", live: live.status, recorded: null }];

  const divergences: Divergence[] = [];
  for (const field of REQUEST_FIELDS) {
    if (live[field] !== recorded[field]) divergences.push({ requestId, field, live: live[field], recorded: recorded[field] });
  }
  return divergences.concat(compareOffers(requestId, live.offers, recorded.offers));
}

/** Offers are matched by id; one present on one side only is named with a short summary of it. */
function compareOffers(requestId: string, live: OfferState[], recorded: RecordedOffer[]): Divergence[] {
  const recordedById = new Map(recorded.map((o) => [o.id, o]));
  const liveIds = new Set(live.map((o) => o.id));
  const divergences: Divergence[] = [];
  for (const offer of live) {
    const row = recordedById.get(offer.id);
    if (!row) {
      divergences.push({ requestId, field: `offers.${offer.id}`, live: summary(offer), recorded: null });
      continue;
    }
    for (const field of OFFER_FIELDS) {
      if (offer[field] !== row[field]) divergences.push({ requestId, field: `offers.${offer.id}.${field}`, live: offer[field], recorded: row[field] });
    }
  }
  for (const row of recorded) {
    if (!liveIds.has(row.id)) divergences.push({ requestId, field: `offers.${row.id}`, live: null, recorded: summary(row) });
  }
  return divergences;
}

const summary = (o: RecordedOffer) => ({ advisorId: o.advisorId, kind: o.kind, outcome: o.outcome });

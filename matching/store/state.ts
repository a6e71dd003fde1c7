/**
 * The shapes of the matching store's live state (advisors, offers, requests), the inputs of its
 * steps and the results they answer, for the port (port.ts) and its adapters.
 */
import type { EligibilitySnapshot, IneligibleReason } from "../domain/eligibility.ts";
import type { AdvisorProfile, AdvisorStats, AdvisorSupply, LicenceKind, OfferKind, OfferOutcome, RequestFacts, RequestStatus } from "../domain/types.ts";

// The live-state fault lives in core (platform classifies it as a 503 and must not import a domain).
export { isLiveStateUnavailable, LiveStateUnavailableError } from "../../core/liveState.ts";

export interface AdvisorState {
  profile: AdvisorProfile;
  /** supply.active === assignments.length and supply.pendingPush === pushHolds.length, always. */
  supply: AdvisorSupply;
  stats: AdvisorStats;
  /** Ids of requests assigned to this advisor and not yet released. */
  assignments: string[];
  /** Ids of push offers holding one of this advisor's capacity slots. */
  pushHolds: string[];
}

export interface OfferState {
  id: string;
  requestId: string;
  advisorId: string;
  kind: OfferKind;
  /** The funnel stage the offer was made in. */
  stageIndex: number;
  sentAt: number;
  expiresAt: number;
  /** null while open. */
  outcome: OfferOutcome | null;
  respondedAt: number | null;
}

export interface LiveRequest {
  facts: RequestFacts;
  /**
   * pending: live, no open offer; offered: live, at least one open offer; assigned: claimed by
   * assignedAdvisorId; completed, cancelled, expired: terminal (kept for a while so late answers
   * get a precise reason for at least 10 minutes, then dropped).
   */
  status: RequestStatus;
  /** Index into the branch funnel's stages; a value past the last stage means "waiting in the queue". */
  stageIndex: number;
  stageStartedAt: number;
  /** Offers made in the current stage. */
  offersInStage: number;
  assignedAdvisorId: string | null;
  /** Advisors who declined this request or let an offer for it time out: never offered it again. */
  excluded: string[];
  /** Every offer made for this request, open and closed, in the order made. */
  offers: OfferState[];
  /** Queue order key when waiting in the queue (lower is served first), else null. */
  queueScore: number | null;
  callbackRequested: boolean;
  updatedAt: number;
  /**
   * Revision: 1 at creation, bumped by every change. The record applies journal entries in any
   * order and keeps the highest revision (ServiceRequest.liveRev), and the reconciler compares it.
   * A restore keeps the higher of the given and the stored revision.
   */
  rev: number;
}

/** Where to look for candidates: one branch, one region, or everyone. */
export interface CandidateQuery {
  pool: "branch" | "region" | "national";
  /** The branch id, the region name, or "*" for national. */
  poolId: string;
  licence: LicenceKind;
  /** Required language, or null for any. */
  language: string | null;
  /** The client's risk level: only advisors whose suitability scope reaches it. */
  minRisk: number;
  limit: number;
}

export type EligibilityRefusal = { ok: false; reason: IneligibleReason | "UNKNOWN_ADVISOR"; detail: string };
export type CapacityResult = { ok: true; snapshot: EligibilitySnapshot; advisor: AdvisorState; duplicate: boolean } | EligibilityRefusal;

export type AddOffersResult =
  | { ok: true; request: LiveRequest }
  | { ok: false; reason: "NOT_FOUND" | "NOT_LIVE" | "STAGE_CHANGED" | "EXCLUDED" | "ALREADY_OFFERED" };

export type ClaimResult =
  | { ok: true; request: LiveRequest; offer: OfferState; superseded: OfferState[]; duplicate: boolean }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "ALREADY_TAKEN" | "OFFER_EXPIRED" | "OFFER_CLOSED" | "NOT_LIVE" };

/**
 * acceptOffer's refusals: the request's (as claimOffer) or the advisor's (as takeAssignment). A
 * PRESENCE refusal also says whether the read that refused saw the advisor restored by a rebuild and
 * not heard from since (heartbeatAt 0): their presence is then unknown rather than offline.
 */
export type AcceptRefusal =
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "ALREADY_TAKEN" | "OFFER_EXPIRED" | "OFFER_CLOSED" | "NOT_LIVE" }
  | (EligibilityRefusal & { unheardSinceRestore?: boolean });

export type AcceptResult =
  | {
      ok: true;
      request: LiveRequest;
      offer: OfferState;
      /** Other offers the accept closed (see claimOffer); their push holds are already released. */
      superseded: OfferState[];
      /** The accepting advisor after the accept. */
      advisor: AdvisorState;
      duplicate: boolean;
      /** The journal entry's id when the store appended one in the same step, else null. */
      journalId: string | null;
    }
  | AcceptRefusal;

export interface AcceptInput {
  requestId: string;
  /**
   * The request's language as its facts give it (facts never change): the Redis store folds it
   * for eligibility the way Node does, without reading the request first.
   */
  language: string | null;
  offerId: string;
  advisorId: string;
  now: number;
  presenceTtlMs: number;
}

export type CloseOfferResult =
  | { ok: true; request: LiveRequest; offer: OfferState }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "ALREADY_CLOSED" | "NOT_DUE"; offer?: OfferState };

export type AdvanceResult =
  | { ok: true; request: LiveRequest /** As AcceptResult.journalId. */; journalId: string | null }
  | { ok: false; reason: "NOT_FOUND" | "NOT_LIVE" | "STAGE_CHANGED" | "OFFERS_OPEN" };

/** reopenRequest: the request back in the funnel, or why not (NOT_YOURS: not assigned to that advisor now). */
export type ReopenResult =
  | {
      ok: true;
      request: LiveRequest;
      /** The advisor after their slot was freed; null when the store did not know them or they held no slot. */
      advisor: AdvisorState | null;
      /** As AcceptResult.journalId. */
      journalId: string | null;
    }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" };

export type FinishResult =
  | { ok: true; request: LiveRequest; withdrawn: OfferState[]; duplicate: boolean }
  | { ok: false; reason: "NOT_FOUND" | "INVALID_STATE"; status?: RequestStatus };

export interface EndInput {
  requestId: string;
  to: "completed" | "cancelled" | "expired";
  now: number;
  /** Set on the request when given (finishRequest's callbackRequested). */
  callbackRequested?: boolean;
  /** When given, the request must be assigned to this advisor right now (else NOT_YOURS). */
  assignee?: string;
}

export type EndResult =
  | {
      ok: true;
      request: LiveRequest;
      /** The open offers the end withdrew (their push holds are already released). */
      withdrawn: OfferState[];
      /** Advisors whose slot the end freed (the assignee's, the withdrawn push offers'), after it. */
      freed: AdvisorState[];
      duplicate: boolean;
      /** As AcceptResult.journalId. */
      journalId: string | null;
    }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "INVALID_STATE"; status?: RequestStatus };

export interface ResolveInput {
  requestId: string;
  offerId: string;
  outcome: "declined" | "timed_out" | "withdrawn";
  now: number;
  /** When given, the offer must be theirs (NOT_YOURS). */
  advisorId?: string;
  /** When given, the request's deadline moves here in the same step (a decline moves the funnel on now). */
  deadline?: number;
}

export type ResolveResult =
  | {
      ok: true;
      request: LiveRequest;
      offer: OfferState;
      /** As AcceptResult.journalId. */
      journalId: string | null;
    }
  | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" | "ALREADY_CLOSED" | "NOT_DUE"; offer?: OfferState };

/**
 * What the caller judged a candidate on: the advisor's state as it read it, and the snapshot
 * checkEligibility gave on that state for this round's request, capacity rule and `now`. A store
 * may take that snapshot instead of checking again while the advisor's stored state is still
 * exactly the one read (the Redis store compares the stored text with the text the state was
 * decoded from, in the round's own step); any other state is checked as usual.
 */
export interface JudgedCandidate {
  state: AdvisorState;
  eligibility: EligibilitySnapshot;
}

export interface OfferRoundInput {
  requestId: string;
  /** The stage the round is for: refused (STAGE_CHANGED) if the request moved. */
  stageIndex: number;
  kind: OfferKind;
  /** Ranked candidates, best first, each with the id its offer gets and, when known, what it was judged on. */
  candidates: Array<{ advisorId: string; offerId: string; judged?: JudgedCandidate }>;
  /** Broadcast: at most this many offers (the top eligible); push makes one. */
  count: number;
  now: number;
  /** The offers' expiry, and the request's new deadline. */
  expiresAt: number;
  presenceTtlMs: number;
  /** As AcceptInput.language. */
  language: string | null;
}

export type OfferRoundResult =
  | {
      ok: true;
      request: LiveRequest;
      /** The offers made, in candidate order, with their eligibility; empty: nobody was eligible and nothing changed. */
      offers: Array<{ offer: OfferState; eligibility: EligibilitySnapshot }>;
      /** As AcceptResult.journalId (null too when no offer was made). */
      journalId: string | null;
    }
  | { ok: false; reason: "NOT_FOUND" | "NOT_LIVE" | "STAGE_CHANGED" };

/**
 * The matching engine's port to the system of record (PostgreSQL). The store holds live state; this
 * port persists every transition (ServiceRequest and Offer rows), reads the directory and policies,
 * and provides the snapshot the store is rebuilt from.
 */
import type { EligibilitySnapshot } from "../domain/eligibility.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import type { AdvisorProfile, Channel, LicenceKind, Pool, RequestFacts } from "../domain/types.ts";
import type { DomainEvent } from "../events.ts";
import type { AdvisorState, LiveRequest, OfferState } from "../store/port.ts";

export interface ClientContext {
  clientId: string;
  branchId: string;
  region: string;
  riskLevel: number;
  language: string;
  dedicatedAdvisorId: string | null;
}

export interface NewRequestRecord {
  facts: RequestFacts;
  topic: string;
  channel: Channel;
  stageIndex: number;
  stage: Pool | null;
  idempotencyKey: string | null;
  /** Hash of the creation body, to tell an idempotent replay from a conflicting reuse of the key. */
  requestHash: string | null;
}

export type InsertRequestResult = { created: true; requestId: string } | { created: false; requestId: string; sameBody: boolean };

export interface OfferChange {
  offer: OfferState;
  /**
   * Present for new offers: why the advisor was eligible at that moment. An offer without it that
   * the record lacks (its own entry was lost) is recorded with RECONSTRUCTED_ELIGIBILITY instead.
   */
  eligibility?: EligibilitySnapshot;
  stage: Pool | "queue";
}

/** Recorded in place of the eligibility snapshot of an offer whose journal entry was lost. */
export const RECONSTRUCTED_ELIGIBILITY = { reconstructed: true, note: "the offer's journal entry was lost; recovered from the live store" } as const;

/** One decision as the record takes it (a journal entry). */
export interface RecordedDecision {
  requestId: string;
  /** The request's revision after the decision (LiveRequest.rev). */
  rev: number;
  /** The request as the live store has it after the decision. */
  request: LiveRequest;
  /** The pool of the request's current stage, null in the queue. */
  stage: Pool | null;
  /** Offers the decision made (with their eligibility snapshot) or closed. */
  offers: OfferChange[];
  /** The events describing the decision, in order: the event log's rows. */
  events: DomainEvent[];
}

/** What the record holds of one request, for comparing with the live store (the reconciler). */
export interface RecordedRevision {
  liveRev: number;
  status: string;
  /** Outcome by offer id; null while open. */
  offers: Map<string, string | null>;
}

export interface MatchingRecords {
  /** The client's branch, region, risk level and dedicated advisor; null for an unknown client. */
  clientContext(clientId: string): Promise<ClientContext | null>;

  /** The branch's validated dispatch policy, or the default when it has none. */
  policyFor(branchId: string): Promise<DispatchPolicy>;

  /** The advisor as the directory knows them (licences included); null if unknown. */
  advisorProfile(advisorId: string): Promise<AdvisorProfile | null>;

  /** The request an offer belongs to; null for an unknown offer. */
  offerRequestId(offerId: string): Promise<string | null>;

  /**
   * Inserts the request row and its creation events in one transaction. With an idempotency key already used by this client, inserts nothing
   * and returns the existing id, saying whether the body matched.
   */
  insertRequest(record: NewRequestRecord, events: DomainEvent[]): Promise<InsertRequestResult>;

  /**
   * Persists decisions in one transaction: for each request the state of its highest revision
   * (status, stage, assignee, status timestamps, callback flag), only if the row holds a lower one;
   * new offers with their eligibility snapshot (kept if already there); outcomes of closed offers
   * (only where none is recorded yet); the events, appended to the event log (skipping ids already
   * there); and the client connections the events open or close. Idempotent and monotonic, so the
   * same decisions applied again, or in another order, leave the same rows.
   */
  applyJournal(decisions: RecordedDecision[]): Promise<void>;

  /**
   * Records a rating for a completed request, once: ALREADY_RATED when it has one. The caller has
   * checked that the request is completed and belongs to the client.
   */
  insertRating(
    rating: { id: string; requestId: string; advisorId: string; clientId: string; stars: number; comment: string | null; at: number },
    events: DomainEvent[],
  ): Promise<{ ok: true } | { ok: false; reason: "ALREADY_RATED" }>;

  /** Status, client, licence and assignee of a request as recorded (also for requests no longer live). */
  requestSummary(
    requestId: string,
  ): Promise<{ id: string; clientId: string; branchId: string; status: string; requiredLicence: LicenceKind; assignedAdvisorId: string | null } | null>;

  /** Requests of a licence kind waiting (pending or offered) in a branch. */
  waitingCount(branchId: string, licence: LicenceKind): Promise<number>;

  /** Ids of every advisor not offboarded. */
  advisorIds(): Promise<string[]>;

  /** These requests as the record has them, in the live store's shape; only the live ones. */
  liveRequests(requestIds: string[], now: number): Promise<LiveRequest[]>;

  /** Ids of requests the record has as live (pending, offered or assigned). */
  liveRequestIds(): Promise<string[]>;

  /** The revision, status and offer outcomes (by offer id; null while open) each request's rows reflect; absent ids are unknown. */
  recordedRevisions(requestIds: string[]): Promise<Map<string, RecordedRevision>>;

  /** Everything the live store needs, read from the system of record. */
  rebuildSnapshot(now: number): Promise<{ advisors: AdvisorState[]; requests: LiveRequest[] }>;
}

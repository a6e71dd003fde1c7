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

export type InsertRequestResult =
  | { created: true; requestId: string }
  | { created: false; requestId: string; sameBody: boolean };

export interface OfferChange {
  offer: OfferState;
  /** Present for new offers: why the advisor was eligible at that moment. */
  eligibility?: EligibilitySnapshot;
  stage: Pool | "queue";
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
   * Persists the request's current state and the offers that changed, in one transaction: status,
   * stage, assignee, status timestamps, callback flag; new offers with their eligibility snapshot,
   * closed offers with their outcome; and the events describing the change, appended to the event
   * log (the outbox). Idempotent: replaying the same state and events writes the same rows.
   */
  saveRequest(request: LiveRequest, stage: Pool | null, offers: OfferChange[], events: DomainEvent[]): Promise<void>;

  /**
   * Records a rating for a completed request, once: ALREADY_RATED when it has one. The caller has
   * checked that the request is completed and belongs to the client.
   */
  insertRating(
    rating: { id: string; requestId: string; advisorId: string; clientId: string; stars: number; comment: string | null; at: number },
    events: DomainEvent[],
  ): Promise<{ ok: true } | { ok: false; reason: "ALREADY_RATED" }>;

  /** Status, client, licence and assignee of a request as recorded (also for requests no longer live). */
  requestSummary(requestId: string): Promise<{ id: string; clientId: string; branchId: string; status: string; requiredLicence: LicenceKind; assignedAdvisorId: string | null } | null>;

  /** Requests of a licence kind waiting (pending or offered) in a branch. */
  waitingCount(branchId: string, licence: LicenceKind): Promise<number>;

  /** Everything the live store needs, read from the system of record. */
  rebuildSnapshot(now: number): Promise<{ advisors: AdvisorState[]; requests: LiveRequest[] }>;
}

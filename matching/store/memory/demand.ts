/**
 * The demand half of the in-memory store: live requests with their offers, the pending deadlines,
 * the queue, and the retention of terminal requests. Every method is synchronous and finishes its
 * checks and writes in one go, so that the async facade (store.ts) is atomic.
 *
 * Methods return internal objects; the facade copies them on the way out.
 */
import type { OfferState, LiveRequest, AddOffersResult, ClaimResult, CloseOfferResult, AdvanceResult, FinishResult, ReopenResult } from "../port.ts";
import type { RequestFacts, RequestStatus } from "../../domain/types.ts";
import { newLiveRequest } from "../newLiveRequest.ts";
import { ScoreIndex } from "./scoreIndex.ts";

/** Late answers must get a precise reason for at least this long after a request ends. */
export const TERMINAL_RETENTION_MS = 10 * 60_000;

type FinishTo = "completed" | "cancelled" | "expired";

/** Which states each end may be reached from. */
const FINISH_FROM: Record<FinishTo, readonly RequestStatus[]> = {
  completed: ["assigned"],
  cancelled: ["pending", "offered", "assigned"],
  expired: ["pending", "offered"],
};

const isTerminal = (status: RequestStatus): boolean => status === "completed" || status === "cancelled" || status === "expired";
/** Live and not yet claimed: the only states in which offers, stage moves and the queue apply. */
const isOpen = (status: RequestStatus): boolean => status === "pending" || status === "offered";
const isOfferOpen = (offer: OfferState): boolean => offer.outcome === null;

export class RequestBook {
  private readonly requests = new Map<string, LiveRequest>();
  private readonly deadlines = new ScoreIndex();
  private readonly queue = new ScoreIndex();
  /** Terminal requests by the time they ended, so the expired ones can be dropped lazily. */
  private readonly retention = new ScoreIndex();

  create(facts: RequestFacts, init: { stageIndex: number; now: number; deadline: number }): { request: LiveRequest; created: boolean } {
    this.purge(init.now);
    const existing = this.requests.get(facts.id);
    if (existing) return { request: existing, created: false };
    const request = newLiveRequest(facts, init);
    this.requests.set(facts.id, request);
    this.deadlines.set(facts.id, init.deadline);
    return { request, created: true };
  }

  get(requestId: string): LiveRequest | null {
    return this.requests.get(requestId) ?? null;
  }

  addOffers(requestId: string, stageIndex: number, offers: OfferState[], now: number): AddOffersResult {
    this.purge(now);
    const request = this.requests.get(requestId);
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    if (!isOpen(request.status)) return { ok: false, reason: "NOT_LIVE" };
    if (request.stageIndex !== stageIndex) return { ok: false, reason: "STAGE_CHANGED" };

    const excluded = new Set(request.excluded);
    if (offers.some((offer) => excluded.has(offer.advisorId))) return { ok: false, reason: "EXCLUDED" };

    // One open offer per advisor, and offer ids unique within the request (claims find offers by id);
    // the batch is checked against itself too, so all-or-nothing holds.
    const openAdvisors = new Set(request.offers.filter(isOfferOpen).map((offer) => offer.advisorId));
    const offerIds = new Set(request.offers.map((offer) => offer.id));
    for (const offer of offers) {
      if (openAdvisors.has(offer.advisorId) || offerIds.has(offer.id)) return { ok: false, reason: "ALREADY_OFFERED" };
      openAdvisors.add(offer.advisorId);
      offerIds.add(offer.id);
    }

    // Nothing to record: leave the request as it is rather than mark it offered with no open offer.
    if (offers.length === 0) return { ok: true, request };

    for (const offer of offers) request.offers.push({ ...offer, requestId, outcome: null, respondedAt: null });
    request.status = "offered";
    request.offersInStage += offers.length;
    request.updatedAt = now;
    request.rev += 1;
    return { ok: true, request };
  }

  /**
   * claim's checks without its effect: the refusal claim would answer, or the request and offer
   * with `duplicate` (the winner asking again) or not (claim would win). acceptOffer checks the
   * request with this before touching the advisor.
   */
  checkClaim(
    requestId: string,
    offerId: string,
    advisorId: string,
    now: number,
  ): Extract<ClaimResult, { ok: false }> | { ok: true; request: LiveRequest; offer: OfferState; duplicate: boolean } {
    this.purge(now);
    const request = this.requests.get(requestId);
    const offer = request?.offers.find((candidate) => candidate.id === offerId);
    if (!request || !offer) return { ok: false, reason: "NOT_FOUND" };
    if (offer.advisorId !== advisorId) return { ok: false, reason: "NOT_YOURS" };

    // The winner asking again (a retried call) while the assignment stands.
    if (request.status === "assigned" && request.assignedAdvisorId === advisorId && offer.outcome === "accepted") {
      return { ok: true, request, offer, duplicate: true };
    }
    if ((request.status === "assigned" && request.assignedAdvisorId !== advisorId) || offer.outcome === "lost_race") {
      return { ok: false, reason: "ALREADY_TAKEN" };
    }
    if (isTerminal(request.status)) return { ok: false, reason: "NOT_LIVE" };
    if (offer.outcome !== null) return { ok: false, reason: "OFFER_CLOSED" };
    if (offer.expiresAt <= now) return { ok: false, reason: "OFFER_EXPIRED" };
    return { ok: true, request, offer, duplicate: false };
  }

  claim(requestId: string, offerId: string, advisorId: string, now: number): ClaimResult {
    const checked = this.checkClaim(requestId, offerId, advisorId, now);
    if (!checked.ok) return checked;
    const { request, offer } = checked;
    if (checked.duplicate) return { ok: true, request, offer, superseded: [], duplicate: true };

    offer.outcome = "accepted";
    offer.respondedAt = now;
    const superseded: OfferState[] = [];
    for (const other of request.offers) {
      if (other === offer || !isOfferOpen(other)) continue;
      other.respondedAt = now;
      // Push offers hold a slot on their advisor: the caller releases those holds.
      other.outcome = other.kind === "broadcast" ? "lost_race" : "withdrawn";
      superseded.push(other);
    }
    request.status = "assigned";
    request.assignedAdvisorId = advisorId;
    request.queueScore = null;
    request.updatedAt = now;
    request.rev += 1;
    this.queue.delete(requestId);
    return { ok: true, request, offer, superseded, duplicate: false };
  }

  close(requestId: string, offerId: string, outcome: "declined" | "timed_out" | "withdrawn", now: number, advisorId?: string): CloseOfferResult {
    this.purge(now);
    const request = this.requests.get(requestId);
    const offer = request?.offers.find((candidate) => candidate.id === offerId);
    if (!request || !offer) return { ok: false, reason: "NOT_FOUND" };
    if (advisorId !== undefined && offer.advisorId !== advisorId) return { ok: false, reason: "NOT_YOURS" };
    if (!isOfferOpen(offer)) return { ok: false, reason: "ALREADY_CLOSED", offer };
    if (outcome === "timed_out" && offer.expiresAt > now) return { ok: false, reason: "NOT_DUE", offer };

    offer.outcome = outcome;
    offer.respondedAt = now;
    // A decline or a timeout is the advisor's answer for this request: never offer it to them again.
    if (outcome !== "withdrawn" && !request.excluded.includes(offer.advisorId)) request.excluded.push(offer.advisorId);
    if (request.status === "offered" && !request.offers.some(isOfferOpen)) request.status = "pending";
    request.updatedAt = now;
    request.rev += 1;
    return { ok: true, request, offer };
  }

  advanceStage(
    requestId: string,
    move: { fromStageIndex: number; toStageIndex: number; now: number; queueScore: number | null },
  ): Extract<AdvanceResult, { ok: false }> | { ok: true; request: LiveRequest } {
    this.purge(move.now);
    const request = this.requests.get(requestId);
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    if (!isOpen(request.status)) return { ok: false, reason: "NOT_LIVE" };
    if (request.stageIndex !== move.fromStageIndex) return { ok: false, reason: "STAGE_CHANGED" };
    if (request.offers.some(isOfferOpen)) return { ok: false, reason: "OFFERS_OPEN" };

    request.stageIndex = move.toStageIndex;
    request.stageStartedAt = move.now;
    request.offersInStage = 0;
    request.queueScore = move.queueScore;
    request.updatedAt = move.now;
    request.rev += 1;
    this.syncQueue(request);
    return { ok: true, request };
  }

  finish(requestId: string, end: { to: FinishTo; now: number; callbackRequested?: boolean }): FinishResult {
    this.purge(end.now);
    const request = this.requests.get(requestId);
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    if (request.status === end.to) return { ok: true, request, withdrawn: [], duplicate: true };
    if (!FINISH_FROM[end.to].includes(request.status)) return { ok: false, reason: "INVALID_STATE", status: request.status };

    const withdrawn: OfferState[] = [];
    for (const offer of request.offers) {
      if (!isOfferOpen(offer)) continue;
      offer.outcome = "withdrawn";
      offer.respondedAt = end.now;
      withdrawn.push(offer);
    }
    request.status = end.to;
    request.queueScore = null;
    if (end.callbackRequested !== undefined) request.callbackRequested = end.callbackRequested;
    request.updatedAt = end.now;
    request.rev += 1;
    this.deadlines.delete(requestId);
    this.queue.delete(requestId);
    this.retention.set(requestId, end.now);
    return { ok: true, request, withdrawn, duplicate: false };
  }

  reopen(requestId: string, change: { advisorId: string; now: number }): Extract<ReopenResult, { ok: false }> | { ok: true; request: LiveRequest } {
    this.purge(change.now);
    const request = this.requests.get(requestId);
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    if (request.status !== "assigned" || request.assignedAdvisorId !== change.advisorId) return { ok: false, reason: "NOT_YOURS" };
    request.status = "pending";
    request.assignedAdvisorId = null;
    if (!request.excluded.includes(change.advisorId)) request.excluded.push(change.advisorId);
    request.stageIndex = 0;
    request.stageStartedAt = change.now;
    request.offersInStage = 0;
    request.queueScore = null;
    request.updatedAt = change.now;
    request.rev += 1;
    return { ok: true, request };
  }

  clearDeadline(requestId: string): void {
    this.deadlines.delete(requestId);
  }

  setDeadline(requestId: string, at: number): void {
    this.deadlines.set(requestId, at);
  }

  getDeadline(requestId: string): number | null {
    return this.deadlines.scoreOf(requestId) ?? null;
  }

  /** Earliest deadlines first, so a backlog is worked off in the order it fell due. */
  claimDueDeadlines(now: number, leaseMs: number, limit: number): string[] {
    this.purge(now);
    if (!(limit > 0)) return [];
    const due = this.deadlines.headUpTo(now, limit).map((entry) => entry.id);
    for (const id of due) this.deadlines.set(id, now + leaseMs);
    return due;
  }

  listQueue(limit: number): string[] {
    return this.queue.head(limit);
  }

  listLiveIds(): string[] {
    const ids: string[] = [];
    for (const [id, request] of this.requests) if (!isTerminal(request.status)) ids.push(id);
    return ids;
  }

  /** Writes the request exactly as given, then derives its deadline, queue and retention entries. */
  restore(request: LiveRequest, deadline: number | null): void {
    const id = request.facts.id;
    // Never go back in revision: the record keeps the highest one it applied.
    request.rev = Math.max(request.rev ?? 0, this.requests.get(id)?.rev ?? 0);
    this.requests.set(id, request);
    if (deadline === null) this.deadlines.delete(id);
    else this.deadlines.set(id, deadline);
    this.syncQueue(request);
    if (isTerminal(request.status)) this.retention.set(id, request.updatedAt);
    else this.retention.delete(id);
  }

  clear(): void {
    this.requests.clear();
    this.deadlines.clear();
    this.queue.clear();
    this.retention.clear();
  }

  /** Queued: a queue score and still open (an assigned or terminal request never waits). */
  private syncQueue(request: LiveRequest): void {
    if (request.queueScore !== null && isOpen(request.status)) this.queue.set(request.facts.id, request.queueScore);
    else this.queue.delete(request.facts.id);
  }

  /**
   * Lazy cleanup: drops terminal requests that ended at least TERMINAL_RETENTION_MS before `now`.
   * Runs on the operations that carry a clock, so memory stays bounded without a timer.
   */
  private purge(now: number): void {
    const stale = this.retention.headUpTo(now - TERMINAL_RETENTION_MS, Number.POSITIVE_INFINITY);
    for (const { id } of stale) {
      this.requests.delete(id);
      this.deadlines.delete(id);
      this.queue.delete(id);
      this.retention.delete(id);
    }
  }
}

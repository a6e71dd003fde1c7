/**
 * The in-memory MatchingStore: the embedded adapter for a single process (no REDIS_URL), with the
 * same semantics as the Redis adapter, checked by the same contract suite.
 *
 * Atomicity: each method does all of its reads and writes synchronously (AdvisorBook and
 * RequestBook have no async code), so on one event loop no other call can interleave with it; the
 * Promise is only the port's shape. Isolation: arguments are copied on the way in and results on
 * the way out (copyPlain), so a caller can neither mutate the store's state nor be surprised
 * by it changing under a value it holds.
 *
 * The live-state fence (see port.ts) never closes here: this state lives and dies with its process,
 * so it is never lost under a running engine, and no operation throws LiveStateUnavailableError,
 * not even after reset() or before the first setGeneration.
 */
import type { MatchingStore, MatchingStoreLifecycle } from "../port.ts";
import { acceptOffer } from "./accept.ts";
import { copyPlain } from "./copy.ts";
import { endRequest } from "./end.ts";
import { makeOffers } from "./offer.ts";
import { RequestBook } from "./demand.ts";
import { LeaseBook } from "./leases.ts";
import { AdvisorBook } from "./supply.ts";

const copy = copyPlain;

/** The three books one memory store keeps. */
interface Books {
  advisors: AdvisorBook;
  requests: RequestBook;
  leases: LeaseBook;
}

/** Supply: advisors, presence, candidates, capacity and answers. */
function supplySteps({
  advisors,
}: Books): Pick<
  MatchingStore,
  | "upsertAdvisor"
  | "setPresence"
  | "expirePresence"
  | "findLapsedAdvisors"
  | "countAvailable"
  | "getAdvisor"
  | "getAdvisors"
  | "findCandidates"
  | "holdPushSlot"
  | "checkBroadcastEligibility"
  | "takeAssignment"
  | "releaseAssignment"
  | "releasePushHold"
  | "recordAnswer"
  | "recordRating"
  | "setIncentive"
> {
  return {
    // `now` is not used: registering is not a heartbeat, so heartbeatAt stays 0 until setPresence.
    async upsertAdvisor(profile) {
      return copy(advisors.upsert(copy(profile)));
    },
    async setPresence(advisorId, presence, now, options) {
      const written = advisors.setPresence(advisorId, presence, now, options?.onlyIfNewer === true);
      return written ? { ok: true, advisor: copy(written.advisor), previous: written.previous } : { ok: false, reason: "UNKNOWN_ADVISOR" };
    },
    async expirePresence(advisorId, heartbeatBefore) {
      return copy(advisors.expirePresence(advisorId, heartbeatBefore));
    },
    async findLapsedAdvisors(heartbeatBefore, limit) {
      if (!(limit > 0)) return [];
      return advisors.findLapsed(heartbeatBefore, limit);
    },
    async countAvailable(heartbeatAfter) {
      return advisors.countAvailable(heartbeatAfter);
    },
    async getAdvisor(advisorId) {
      return copy(advisors.get(advisorId));
    },
    async getAdvisors(advisorIds) {
      return advisorIds.map((id) => copy(advisors.get(id)));
    },
    async findCandidates(query) {
      return copy(advisors.findCandidates(query));
    },
    async holdPushSlot(advisorId, request, offerId, now, presenceTtlMs) {
      return copy(advisors.holdPushSlot(advisorId, request, offerId, now, presenceTtlMs));
    },
    async checkBroadcastEligibility(advisorId, request, now, presenceTtlMs) {
      return copy(advisors.checkBroadcastEligibility(advisorId, request, now, presenceTtlMs));
    },
    async takeAssignment(advisorId, request, offerId, now, presenceTtlMs) {
      return copy(advisors.takeAssignment(advisorId, request, offerId, now, presenceTtlMs));
    },
    async releaseAssignment(advisorId, requestId) {
      return copy(advisors.releaseAssignment(advisorId, requestId));
    },
    async releasePushHold(advisorId, offerId) {
      return copy(advisors.releasePushHold(advisorId, offerId));
    },
    async recordAnswer(advisorId, answer) {
      advisors.recordAnswer(advisorId, answer);
    },
    async recordRating(advisorId, stars) {
      advisors.recordRating(advisorId, stars);
    },
    async setIncentive(advisorId, value) {
      advisors.setIncentive(advisorId, value);
    },
  };
}

/** Demand: requests, offers and the actions that decide across both books. */
function demandSteps({
  advisors,
  requests,
}: Books): Pick<
  MatchingStore,
  | "acceptOffer"
  | "createRequest"
  | "getRequest"
  | "lookupRequest"
  | "addOffers"
  | "makeOffers"
  | "claimOffer"
  | "closeOffer"
  | "resolveOffer"
  | "advanceStage"
  | "finishRequest"
  | "endRequest"
  | "reopenRequest"
> {
  return {
    async acceptOffer(input) {
      return copy(acceptOffer(advisors, requests, input));
    },
    async createRequest(facts, init) {
      return copy(requests.create(copy(facts), init));
    },
    async getRequest(requestId) {
      return copy(requests.get(requestId));
    },
    // Never lost while the process lives (see isLive).
    async lookupRequest(requestId) {
      return { request: copy(requests.get(requestId)), live: true };
    },
    async addOffers(requestId, stageIndex, offers, now) {
      return copy(requests.addOffers(requestId, stageIndex, copy(offers), now));
    },
    async makeOffers(input) {
      // The judged states are not this store's business (it checks in the same synchronous step): not copied.
      const candidates = input.candidates.map(({ advisorId, offerId }) => ({ advisorId, offerId }));
      return copy(makeOffers(advisors, requests, copy({ ...input, candidates })));
    },
    async claimOffer(requestId, offerId, advisorId, now) {
      return copy(requests.claim(requestId, offerId, advisorId, now));
    },
    async closeOffer(requestId, offerId, outcome, now, advisorId) {
      return copy(requests.close(requestId, offerId, outcome, now, advisorId));
    },
    async resolveOffer(input) {
      const closed = requests.close(input.requestId, input.offerId, input.outcome, input.now, input.advisorId);
      if (!closed.ok) return copy(closed);
      // The rest of the step, synchronously (see lua/resolveOffer.lua): hold, answer, deadline.
      const { offer } = closed;
      if (offer.kind === "push") advisors.releasePushHold(offer.advisorId, offer.id);
      if (input.outcome !== "withdrawn") advisors.recordAnswer(offer.advisorId, { accepted: false });
      if (input.deadline !== undefined) requests.setDeadline(input.requestId, input.deadline);
      return copy({ ok: true as const, request: closed.request, offer, journalId: null });
    },
    async advanceStage(requestId, move) {
      const moved = requests.advanceStage(requestId, move);
      return copy(moved.ok ? { ...moved, journalId: null } : moved);
    },
    async finishRequest(requestId, end) {
      return copy(requests.finish(requestId, end));
    },
    async endRequest(input) {
      return copy(endRequest(advisors, requests, input));
    },
    async reopenRequest(requestId, change) {
      const reopened = requests.reopen(requestId, change);
      if (!reopened.ok) return copy(reopened);
      // The rest of the step, synchronously (see lua/reopenRequest.lua): the slot, the deadline.
      const holder = advisors.get(change.advisorId);
      const advisor = holder?.assignments.includes(requestId) ? advisors.releaseAssignment(change.advisorId, requestId) : null;
      if (change.deadline !== undefined) requests.setDeadline(requestId, change.deadline);
      return copy({ ok: true as const, request: reopened.request, advisor, journalId: null });
    },
  };
}

/** Deadlines, the queue and the live-request list. */
function timeSteps({
  requests,
}: Books): Pick<MatchingStore, "setDeadline" | "setDeadlineIf" | "getDeadline" | "clearDeadline" | "claimDueDeadlines" | "listQueue" | "listLiveRequestIds"> {
  return {
    async setDeadline(requestId, at) {
      requests.setDeadline(requestId, at);
    },
    async setDeadlineIf(requestId, at, rev) {
      if (requests.get(requestId)?.rev !== rev) return false;
      requests.setDeadline(requestId, at);
      return true;
    },
    async getDeadline(requestId) {
      return requests.getDeadline(requestId);
    },
    async clearDeadline(requestId) {
      requests.clearDeadline(requestId);
    },
    async claimDueDeadlines(now, leaseMs, limit) {
      return requests.claimDueDeadlines(now, leaseMs, limit);
    },
    async listQueue(limit) {
      return requests.listQueue(limit);
    },
    async listLiveRequestIds() {
      return requests.listLiveIds();
    },
  };
}

/** The live state's lifecycle: reset, generation, leases, restore and close. */
function lifecycleSteps({ advisors, requests, leases }: Books): MatchingStoreLifecycle {
  return {
    async reset(options = {}) {
      advisors.clear();
      requests.clear();
      if (options.keepLeases) leases.generation = null;
      else leases.clear();
    },
    async retireGeneration(generation) {
      if (leases.generation !== generation) return false;
      leases.generation = null;
      return true;
    },
    async getGeneration() {
      return leases.generation;
    },
    async setGeneration(generation) {
      leases.generation = generation;
    },
    // Never lost while the process lives (see the top of this file).
    async isLive() {
      return true;
    },
    async acquireLease(name, token, ttlMs) {
      return leases.acquire(name, token, ttlMs);
    },
    async renewLease(name, token, ttlMs) {
      return leases.renew(name, token, ttlMs);
    },
    async releaseLease(name, token) {
      leases.release(name, token);
    },
    async restoreAdvisor(state) {
      advisors.restore(copy(state));
    },
    async restoreRequest(request, deadline) {
      requests.restore(copy(request), deadline);
    },
    // Nothing to release: the state lives and dies with the process.
    async close() {},
  };
}

export function createMemoryMatchingStore(): MatchingStore {
  const books: Books = { advisors: new AdvisorBook(), requests: new RequestBook(), leases: new LeaseBook() };
  return { kind: "memory", ...supplySteps(books), ...demandSteps(books), ...timeSteps(books), ...lifecycleSteps(books) };
}

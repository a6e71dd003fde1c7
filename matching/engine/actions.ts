/** The client and advisor actions: create, cancel, complete, rate; presence, accept, decline, withdraw, redispatch. */
import { newId } from "../../core/ids.ts";
import { stagesFor } from "../domain/funnel.ts";
import type { Presence, RequestFacts } from "../domain/types.ts";
import type { AcceptContext, ReopenContext } from "../journal/draft.ts";
import { isLiveStateUnavailable, LiveStateUnavailableError, type AdvisorState, type ResolveResult } from "../store/port.ts";
import { FunnelEngine } from "./funnel.ts";
import type { AcceptOutcome, CreateOutcome, DeclineOutcome, FinishOutcome, NewRequest, RateOutcome } from "./types.ts";

export abstract class ActionEngine extends FunnelEngine {
  // ---- demand ------------------------------------------------------------------------------------

  async createRequest(input: NewRequest): Promise<CreateOutcome> {
    // Three independent reads at once (about 1 ms in sequence on the create path), answered in this
    // order: backpressure (new work waits while the record trails; accepts, declines and completes
    // go on); the live state, whose loss refuses before the row is written (a rebuild would restore
    // it, but the caller is told to retry); then the client.
    const [overloaded, stateIsLive, client] = await Promise.all([this.recorder.overloaded(), this.store.isLive(), this.records.clientContext(input.clientId)]);
    if (overloaded) return { ok: false, reason: "OVERLOADED" };
    if (!stateIsLive) throw new LiveStateUnavailableError("createRequest");
    if (!client) return { ok: false, reason: "UNKNOWN_CLIENT" };
    const now = this.clock.now();
    const policy = await this.policies.get(client.branchId);
    const stages = stagesFor(policy, input.mode);
    const facts: RequestFacts = {
      id: newId("request", now),
      clientId: client.clientId,
      branchId: client.branchId,
      region: client.region,
      requiredLicence: input.requiredLicence,
      riskLevel: client.riskLevel,
      language: input.language,
      priority: input.priority,
      dedicatedAdvisorId: client.dedicatedAdvisorId,
      mode: input.mode,
      createdAt: now,
    };
    // The row first: once the client has an id, the request survives any crash after this point.
    const created = this.stamp({
      type: "request.created",
      requestId: facts.id,
      branchId: facts.branchId,
      clientId: facts.clientId,
      requiredLicence: facts.requiredLicence,
      priority: facts.priority,
      topic: input.topic,
      channel: input.channel,
    });
    const inserted = await this.records.insertRequest(
      {
        facts,
        topic: input.topic,
        channel: input.channel,
        stageIndex: 0,
        stage: stages[0]?.pool ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
        requestHash: input.requestHash ?? null,
      },
      [created],
    );
    if (!inserted.created) {
      return inserted.sameBody ? { ok: true, requestId: inserted.requestId, created: false, status: null } : { ok: false, reason: "IDEMPOTENCY_CONFLICT" };
    }
    // Created under this call's own lease (the deadline a lease away), so its first pass runs here.
    const opened = await this.store.createRequest(facts, { stageIndex: 0, now, deadline: now + this.leaseMs });
    await this.publish([created]);
    // The pass starts from the state the store step answered with and ends with the one it last
    // wrote or read: the client's answer is never older than that, and neither needs a read.
    const passed = await this.passUnderLease(facts.id, opened.request);
    const live = passed === undefined ? await this.store.getRequest(facts.id) : passed;
    return { ok: true, requestId: facts.id, created: true, status: live?.status ?? "pending" };
  }

  async cancel(requestId: string, clientId: string): Promise<FinishOutcome> {
    const request = await this.liveRequest(requestId, "cancel");
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    if (request.facts.clientId !== clientId) return { ok: false, reason: "NOT_YOURS" };
    return this.finish(request, "cancelled");
  }

  async complete(requestId: string, advisorId: string): Promise<FinishOutcome> {
    const request = await this.liveRequest(requestId, "complete");
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    if (request.assignedAdvisorId !== advisorId) return { ok: false, reason: "NOT_YOURS" };
    return this.finish(request, "completed", advisorId);
  }

  /**
   * A client rates a completed request, once. The rating feeds the advisor's Bayesian rating for
   * ranking and is announced as request.rated.
   */
  async rate(requestId: string, clientId: string, stars: number, comment: string | null): Promise<RateOutcome> {
    const summary = await this.records.requestSummary(requestId);
    if (!summary) return { ok: false, reason: "NOT_FOUND" };
    if (summary.clientId !== clientId) return { ok: false, reason: "NOT_YOURS" };
    if (summary.status !== "completed" || !summary.assignedAdvisorId) return { ok: false, reason: "NOT_COMPLETED" };
    const now = this.clock.now();
    const rated = this.stamp({
      type: "request.rated",
      requestId,
      branchId: summary.branchId,
      advisorId: summary.assignedAdvisorId,
      clientId,
      stars,
      requiredLicence: summary.requiredLicence,
    });
    const inserted = await this.records.insertRating(
      { id: newId("rating", now), requestId, advisorId: summary.assignedAdvisorId, clientId, stars, comment, at: now },
      [rated],
    );
    if (!inserted.ok) return inserted;
    try {
      await this.store.recordRating(summary.assignedAdvisorId, stars);
    } catch (error) {
      // The rating is recorded; the live rating sum is rebuilt from the record, so a lost live
      // state loses nothing here (a rebuild that read the record just before this insert misses it
      // until the next rebuild: a ranking input, not a decision).
      if (!isLiveStateUnavailable(error)) throw error;
    }
    await this.publish([rated]);
    return { ok: true };
  }

  // ---- supply ------------------------------------------------------------------------------------

  /** Loads (or refreshes) an advisor from the directory into the live store. */
  async syncAdvisor(advisorId: string): Promise<AdvisorState | null> {
    const profile = await this.records.advisorProfile(advisorId);
    if (!profile) return null;
    const state = await this.store.upsertAdvisor(profile, this.clock.now());
    await this.serveQueue(state);
    return state;
  }

  /**
   * Presence change and heartbeat. An advisor becoming available is offered waiting requests. The
   * report is remembered first (for the presence TTL), so one that arrives while the live state is
   * missing (LiveStateUnavailableError) is still applied once it is rebuilt. A transition (the store
   * answers a different previous presence) goes to the presence history; re-applying a report after
   * a rebuild (replayPresence, reapplyPresence) records it again where the rebuilt state differed, as
   * a report made while the live state was missing was never recorded (a repeat is harmless).
   */
  async setPresence(advisorId: string, presence: Presence): Promise<{ ok: true; advisor: AdvisorState } | { ok: false; reason: "UNKNOWN_ADVISOR" }> {
    let now = this.clock.now();
    this.remember(advisorId, presence, now);
    let result = await this.store.setPresence(advisorId, presence, now);
    if (!result.ok) {
      // Not in the live store yet (a new advisor, or one the rebuild did not know): load from the
      // directory. upsertAdvisor is fenced like setPresence, so it never recreates an advisor (with
      // no assignments) while a rebuild is pending: that throws LiveStateUnavailableError instead.
      if (!(await this.syncAdvisor(advisorId))) return result;
      now = this.clock.now();
      result = await this.store.setPresence(advisorId, presence, now);
      if (!result.ok) return result;
    }
    if (result.previous !== presence) this.notePresence(result.advisor, presence, now);
    if (presence === "available") await this.serveQueue(result.advisor);
    return { ok: true, advisor: result.advisor };
  }

  /**
   * An accept is one atomic store step (MatchingStore.acceptOffer): the claim, the capacity slot,
   * the superseded holds, the answer and, on a journaling store, the journal entry. The engine only
   * prepares the events' context before it (stage names, demand, event ids) and waits for the
   * record and announces the events after it.
   */
  async accept(offerId: string, advisorId: string): Promise<AcceptOutcome> {
    const now = this.clock.now();
    const requestId = await this.requestOfOffer(offerId);
    const request = requestId ? await this.liveRequest(requestId, "accept") : null;
    const offer = request?.offers.find((o) => o.id === offerId);
    if (!request || !offer) return { ok: false, reason: "NOT_FOUND" };
    if (offer.advisorId !== advisorId) return { ok: false, reason: "NOT_YOURS" };
    // Cheap early answers from what we just read (they spare the demand query); the store decides.
    if (request.assignedAdvisorId !== null && request.assignedAdvisorId !== advisorId) return { ok: false, reason: "ALREADY_TAKEN" };
    if (request.assignedAdvisorId === null && offer.outcome === null && offer.expiresAt <= now) return { ok: false, reason: "OFFER_EXPIRED" };

    const [stages, demand] = await Promise.all([this.stagesOf(request), this.demandFor(request.facts.branchId, request.facts.requiredLicence)]);
    const open = request.offers.filter((o) => o.outcome === null).length;
    const context: AcceptContext = {
      kind: "accept",
      // One per superseded offer the engine can see, plus offer.accepted and request.assigned.
      eventIds: Array.from({ length: open + 2 }, () => newId("auditEvent", now)),
      at: now,
      stages: stages.map((stage) => stage.pool),
      demand,
    };
    const attempt = () =>
      this.store.acceptOffer(
        { requestId: request.facts.id, language: request.facts.language, offerId, advisorId, now, presenceTtlMs: this.presenceTtlMs },
        context,
      );
    let result = await attempt();
    if (!result.ok && result.reason === "PRESENCE") {
      // Right after a rebuild every advisor is offline until their presence is re-applied: use
      // what they reported to this process, or, when nobody has re-applied it yet, ask them to retry.
      if (await this.reapplyPresence(advisorId)) result = await attempt();
      // The refusing step itself saw whether the advisor was restored and not heard from since, so
      // a presence re-applied by another process just after it cannot turn "unknown" into "offline".
      if (!result.ok && result.reason === "PRESENCE" && result.unheardSinceRestore && (await this.rebuiltWithinPresenceTtl())) {
        throw new LiveStateUnavailableError("accept", "the live state was just rebuilt and this advisor's presence is not restored yet");
      }
    }
    if (!result.ok) {
      switch (result.reason) {
        case "ALREADY_TAKEN":
        case "NOT_LIVE":
          return { ok: false, reason: "ALREADY_TAKEN" };
        case "NOT_FOUND":
        case "NOT_YOURS":
          return { ok: false, reason: result.reason };
        case "OFFER_CLOSED":
        case "OFFER_EXPIRED":
          return { ok: false, reason: "OFFER_EXPIRED" };
        case "CAPACITY":
          return { ok: false, reason: "AT_CAPACITY" };
        default:
          return { ok: false, reason: "NOT_ELIGIBLE" };
      }
    }
    if (result.duplicate) return { ok: true, requestId: request.facts.id, duplicate: true };

    await this.settle({ context, request: result.request, offer: result.offer, superseded: result.superseded }, result.journalId);
    return { ok: true, requestId: request.facts.id, duplicate: false };
  }

  async decline(offerId: string, advisorId: string): Promise<DeclineOutcome> {
    const requestId = await this.requestOfOffer(offerId);
    if (!requestId) return { ok: false, reason: "NOT_FOUND" };
    const closed = await this.closeAndMoveOn(requestId, offerId, { outcome: "declined", advisorId });
    if (!closed.ok) return { ok: false, reason: closed.reason === "NOT_DUE" ? "ALREADY_CLOSED" : closed.reason };
    return { ok: true, requestId };
  }

  /**
   * Withdraws one open offer for a reason outside the funnel (e.g. the advisor's licence lapsed):
   * closes it as withdrawn, frees its push hold, persists and announces it (offer.withdrawn with
   * `reason`), then moves the request's funnel on at once, as a decline does. The advisor is not
   * excluded from the request. True when this call closed the offer; false when the offer is
   * unknown or was already closed (answered, expired or withdrawn before). Callers that already know
   * the offer's request pass it and save a lookup.
   */
  async withdrawOffer(offerId: string, reason: string, knownRequestId?: string): Promise<boolean> {
    const requestId = knownRequestId ?? (await this.requestOfOffer(offerId));
    if (!requestId) return false;
    return (await this.closeAndMoveOn(requestId, offerId, { outcome: "withdrawn", reason })).ok;
  }

  /**
   * Closes one open offer outside the funnel's timers (a decline, a withdrawal), records it, and
   * moves the request's funnel on now rather than at the offer's expiry.
   */
  protected async closeAndMoveOn(
    requestId: string,
    offerId: string,
    close: { outcome: "declined"; advisorId: string } | { outcome: "withdrawn"; reason: string },
  ): Promise<ResolveResult> {
    const now = this.clock.now();
    const request = await this.liveRequest(requestId, "close offer");
    if (!request) return { ok: false, reason: "NOT_FOUND" };
    const closed = await this.resolve(request, offerId, close.outcome, now, {
      // The funnel moves on now rather than at the offer's expiry: under this call's lease, taken in
      // the same step, and run here.
      deadline: now + this.leaseMs,
      ...(close.outcome === "declined" ? { advisorId: close.advisorId } : { reason: close.reason }),
    });
    if (closed.ok) await this.passUnderLease(requestId);
    return closed;
  }

  /**
   * Takes an assigned, uncompleted request back from `advisorId` (who is leaving) and runs it
   * through the funnel again from its first stage, never offering it to them again. NOT_YOURS when
   * the request is not assigned to them now (already taken back, completed or cancelled), so a
   * repeat is harmless. The request's overall wait still counts from its creation: when that has
   * run out by the end of the last stage it ends with a callback instead of waiting in the queue.
   */
  async redispatch(requestId: string, advisorId: string, reason: string): Promise<{ ok: true } | { ok: false; reason: "NOT_FOUND" | "NOT_YOURS" }> {
    const now = this.clock.now();
    const known = await this.liveRequest(requestId, "redispatch");
    if (!known) return { ok: false, reason: "NOT_FOUND" };
    const stages = await this.stagesOf(known);
    const context: ReopenContext = { kind: "reopen", eventIds: [newId("auditEvent", now)], at: now, stages: stages.map((s) => s.pool), advisorId, reason };
    // One step: back in the funnel, the advisor's slot freed, under this call's lease, journaled.
    const reopened = await this.store.reopenRequest(requestId, { advisorId, now, deadline: now + this.leaseMs }, context);
    if (!reopened.ok) return reopened;
    await this.settle({ context, request: reopened.request }, reopened.journalId);
    await this.passUnderLease(requestId);
    return { ok: true };
  }
}

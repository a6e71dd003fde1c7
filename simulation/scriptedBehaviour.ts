/**
 * The people of a scripted day (script.ts): the role AdvisorBehaviour plays for a modelled day, with
 * every draw replaced by the script. Each action goes through the engine's public actions as the API
 * calls them, the rating through engine.rate as the rating route does.
 *
 * Offers are told apart by their place in their request (the n-th offer.sent of that request), as
 * the script names them; an offer the script gives no answer times out. Heartbeats follow the same
 * rule as the modelled day (behaviour.ts HEARTBEAT_MS): every advisor available reports on the 20 s
 * grid while the queue holds a request, since in a server each report offers them queued requests.
 */
import type { ManualClock } from "../core/clock.ts";
import type { Presence } from "../matching/domain/types.ts";
import type { MatchingEngine } from "../matching/engine/engine.ts";
import type { DomainEvent } from "../matching/events.ts";
import type { Agenda } from "./agenda.ts";
import { HEARTBEAT_MS } from "./behaviour.ts";
import type { DayCounters } from "./day.ts";
import type { DayScript, ScriptedRequest } from "./script.ts";

export type ScriptedHappening =
  | { kind: "arrive"; request: ScriptedRequest }
  | { kind: "presence"; advisorId: string; presence: Presence }
  | { kind: "answer"; offerId: string; advisorId: string; answer: "accept" | "decline"; request: ScriptedRequest }
  | { kind: "complete"; requestId: string; advisorId: string; request: ScriptedRequest }
  | { kind: "rate"; requestId: string; clientId: string; stars: number }
  | { kind: "cancel"; requestId: string; clientId: string }
  | { kind: "heartbeat" }
  /** The incentive consumer's run (day.ts performs it). */
  | { kind: "incentives" };

export class ScriptedBehaviour {
  private readonly byClient: Map<string, ScriptedRequest>;
  private readonly requestOf = new Map<string, ScriptedRequest>();
  private readonly offersSent = new Map<string, number>();
  private readonly presence = new Map<string, Presence>();

  constructor(
    private readonly engine: MatchingEngine,
    private readonly clock: ManualClock,
    private readonly agenda: Agenda<ScriptedHappening>,
    private readonly script: DayScript,
    /** Writes the record's pending batch: a rating reads the completion from the record, as the route's does. */
    private readonly flushRecord: () => Promise<void>,
  ) {
    this.byClient = new Map(script.requests.map((r) => [r.clientId, r]));
  }

  /** Presence changes, arrivals and the heartbeat grid from the first change to the last. */
  scheduleDay(): void {
    for (const change of this.script.presence) this.agenda.add(change.at, { kind: "presence", advisorId: change.advisorId, presence: change.presence });
    for (const request of this.script.requests) this.agenda.add(request.at, { kind: "arrive", request });
    if (!this.script.presence.length) return;
    const times = this.script.presence.map((c) => c.at);
    const day = this.script.dayStart;
    const last = Math.max(...times);
    for (let at = day + Math.ceil((Math.min(...times) - day) / HEARTBEAT_MS) * HEARTBEAT_MS; at <= last; at += HEARTBEAT_MS)
      this.agenda.add(at, { kind: "heartbeat" });
  }

  /** A request created (its script found by client) and an offer reaching an advisor (answered as scripted). */
  observe(event: DomainEvent): void {
    if (event.type === "request.created") {
      const request = this.byClient.get(event.clientId);
      if (request) this.requestOf.set(event.requestId, request);
      return;
    }
    if (event.type !== "offer.sent") return;
    const request = this.requestOf.get(event.requestId);
    if (!request) return;
    const index = this.offersSent.get(event.requestId) ?? 0;
    this.offersSent.set(event.requestId, index + 1);
    const scripted = request.answers[index];
    if (!scripted) return;
    this.agenda.add(this.clock.now() + scripted.afterMs, {
      kind: "answer",
      offerId: event.offerId,
      advisorId: event.advisorId,
      answer: scripted.answer,
      request,
    });
  }

  async perform(item: ScriptedHappening, counters: DayCounters): Promise<void> {
    switch (item.kind) {
      case "arrive":
        return this.arrive(item.request, counters);
      case "presence":
        this.presence.set(item.advisorId, item.presence);
        await this.engine.setPresence(item.advisorId, item.presence);
        return;
      case "answer":
        return this.answer(item, counters);
      case "complete": {
        const rating = item.request.rating;
        if ((await this.engine.complete(item.requestId, item.advisorId)).ok && rating) {
          this.agenda.add(this.clock.now() + rating.afterMs, { kind: "rate", requestId: item.requestId, clientId: item.request.clientId, stars: rating.stars });
        }
        return;
      }
      case "rate":
        await this.flushRecord();
        await this.engine.rate(item.requestId, item.clientId, item.stars, null);
        return;
      case "cancel":
        counters.cancels++;
        await this.engine.cancel(item.requestId, item.clientId);
        return;
      case "heartbeat":
        if (!(await this.engine.store.listQueue(1)).length) return;
        for (const advisor of this.script.advisors) if (this.presence.get(advisor.id) === "available") await this.engine.setPresence(advisor.id, "available");
        return;
      case "incentives":
        return;
    }
  }

  private async arrive(request: ScriptedRequest, counters: DayCounters): Promise<void> {
    counters.arrivals++;
    const created = await this.engine.createRequest({
      clientId: request.clientId,
      topic: "scripted",
      requiredLicence: request.requiredLicence,
      channel: "chat",
      mode: "auto",
      language: request.language,
      priority: 0,
    });
    if (!created.ok) {
      counters.refusedCreates++;
      return;
    }
    if (request.cancelAfterMs !== undefined) {
      this.agenda.add(request.at + request.cancelAfterMs, { kind: "cancel", requestId: created.requestId, clientId: request.clientId });
    }
  }

  private async answer(item: Extract<ScriptedHappening, { kind: "answer" }>, counters: DayCounters): Promise<void> {
    if (item.answer === "decline") {
      counters.declines++;
      await this.engine.decline(item.offerId, item.advisorId);
      return;
    }
    counters.accepts++;
    const accepted = await this.engine.accept(item.offerId, item.advisorId);
    if (accepted.ok && !accepted.duplicate && item.request.handleMs !== undefined) {
      this.agenda.add(this.clock.now() + item.request.handleMs, {
        kind: "complete",
        requestId: accepted.requestId,
        advisorId: item.advisorId,
        request: item.request,
      });
    }
  }
}

/**
 * The people of a simulated day: clients arriving and giving up, advisors starting and ending
 * shifts, answering offers and completing conversations, as the scenario's behaviour model says.
 * Each is an entry on the agenda, performed through the engine's public actions exactly as the API
 * would call them.
 *
 * Answering an offer: the advisor's think time is drawn when the offer reaches them; at the end of
 * it they accept with probability acceptProbability × acceptByLoad[their assignments then] ×
 * acceptByHour[hour] (× (1 + acceptUplift), at most 1, with incentives on); otherwise they decline
 * (declineShare of the time) or let it time out. Every offer draws the same three numbers whatever
 * happens, so one advisor's choice never shifts the random numbers another's draws.
 */
import type { ManualClock } from "../core/clock.ts";
import { requestIdOfOffer } from "../core/ids.ts";
import type { MatchingEngine } from "../matching/engine/engine.ts";
import type { DomainEvent } from "../matching/events.ts";
import type { Agenda } from "./agenda.ts";
import type { DayCounters } from "./day.ts";
import type { Arrival, Population, SimAdvisor } from "./population.ts";
import type { Sampler } from "./sampling.ts";

export type Happening =
  | { kind: "arrive"; arrival: Arrival }
  | { kind: "shift"; advisorId: string; presence: "available" | "offline" }
  | { kind: "answer"; offerId: string; advisorId: string; acceptDraw: number; declineDraw: number }
  | { kind: "complete"; requestId: string; advisorId: string }
  | { kind: "give-up"; requestId: string; clientId: string }
  /** The incentive consumer's run (day.ts performs it). */
  | { kind: "incentives" }
  /** Every advisor on shift heartbeats (see HEARTBEAT_MS). */
  | { kind: "heartbeat" };

const HOUR_MS = 3_600_000;

/**
 * How often an advisor's phone reports its presence (the advisor app's heartbeat). In a server each
 * report of "available" also offers queued requests to the advisor when they have room
 * (MatchingEngine.setPresence, serveQueue), so the simulation reports too, on the same 20 s grid
 * from midnight; only while the queue holds a request, as with an empty queue a report changes
 * nothing (the presence is the same, and there is nothing to offer).
 */
export const HEARTBEAT_MS = 20_000;

/**
 * What the day's people did that took effect, in order, named by client and by the offer's place
 * in its request (ids differ between runs on other wiring): the script a fidelity check replays.
 */
export type TraceEntry =
  | { at: number; action: "create"; clientId: string }
  | { at: number; action: "presence"; advisorId: string; presence: "available" | "offline" }
  | { at: number; action: "accept" | "decline"; advisorId: string; clientId: string; offerIndex: number }
  | { at: number; action: "complete"; advisorId: string; clientId: string }
  | { at: number; action: "cancel"; clientId: string };

export class AdvisorBehaviour {
  private readonly advisors: Map<string, SimAdvisor>;
  private readonly clientOf = new Map<string, string>();
  private readonly onShift = new Set<string>();
  /** Receives every action that took effect (see TraceEntry); nothing by default. */
  trace: (entry: TraceEntry) => void = () => {};

  constructor(
    private readonly engine: MatchingEngine,
    private readonly clock: ManualClock,
    private readonly agenda: Agenda<Happening>,
    private readonly population: Population,
    private readonly incentives: boolean,
    private readonly sample: Sampler,
  ) {
    this.advisors = new Map(population.advisors.map((a) => [a.id, a]));
  }

  /** Arrivals and shifts: the day's script, known before it starts. */
  scheduleDay(): void {
    for (const advisor of this.population.advisors) {
      if (advisor.noShow) continue;
      for (const shift of advisor.shifts) {
        this.agenda.add(shift.startMs, { kind: "shift", advisorId: advisor.id, presence: "available" });
        this.agenda.add(shift.endMs, { kind: "shift", advisorId: advisor.id, presence: "offline" });
      }
    }
    for (const arrival of this.population.arrivals) this.agenda.add(arrival.at, { kind: "arrive", arrival });
    const shifts = this.population.advisors.filter((a) => !a.noShow).flatMap((a) => a.shifts);
    if (!shifts.length) return;
    const first = Math.min(...shifts.map((s) => s.startMs));
    const last = Math.max(...shifts.map((s) => s.endMs));
    const day = this.population.dayStart;
    for (let at = day + Math.ceil((first - day) / HEARTBEAT_MS) * HEARTBEAT_MS; at <= last; at += HEARTBEAT_MS) this.agenda.add(at, { kind: "heartbeat" });
  }

  /** Reacts to the engine's events: an offer reaching an advisor's phone. */
  observe(event: DomainEvent): void {
    if (event.type !== "offer.sent") return;
    const advisor = this.advisors.get(event.advisorId);
    if (!advisor) return;
    const think = this.sample.durationMs(advisor.behaviour.thinkTime);
    const acceptDraw = this.sample.next();
    const declineDraw = this.sample.next();
    const cut = this.incentives ? advisor.behaviour.incentiveResponse.thinkTimeCut : 0;
    this.agenda.add(this.clock.now() + Math.round(think * (1 - cut)), {
      kind: "answer",
      offerId: event.offerId,
      advisorId: advisor.id,
      acceptDraw,
      declineDraw,
    });
  }

  async perform(item: Happening, counters: DayCounters): Promise<void> {
    switch (item.kind) {
      case "arrive":
        return this.arrive(item.arrival, counters);
      case "shift":
        if (item.presence === "available") this.onShift.add(item.advisorId);
        else this.onShift.delete(item.advisorId);
        await this.engine.setPresence(item.advisorId, item.presence);
        this.trace({ at: this.clock.now(), action: "presence", advisorId: item.advisorId, presence: item.presence });
        return;
      case "answer":
        return this.answer(item, counters);
      case "complete":
        if ((await this.engine.complete(item.requestId, item.advisorId)).ok) {
          this.trace({ at: this.clock.now(), action: "complete", advisorId: item.advisorId, clientId: this.clientOf.get(item.requestId)! });
        }
        return;
      case "incentives":
        return;
      case "heartbeat":
        if (!(await this.engine.store.listQueue(1)).length) return;
        for (const advisor of this.population.advisors) if (this.onShift.has(advisor.id)) await this.engine.setPresence(advisor.id, "available");
        return;
      case "give-up": {
        // Only a client still waiting gives up; one already talking to an advisor stays.
        const request = await this.engine.store.getRequest(item.requestId);
        if (request && (request.status === "pending" || request.status === "offered")) {
          if ((await this.engine.cancel(item.requestId, item.clientId)).ok) this.trace({ at: this.clock.now(), action: "cancel", clientId: item.clientId });
          counters.cancels++;
        }
        return;
      }
    }
  }

  private async arrive(arrival: Arrival, counters: DayCounters): Promise<void> {
    counters.arrivals++;
    const created = await this.engine.createRequest({
      clientId: arrival.clientId,
      topic: "simulated",
      requiredLicence: arrival.requiredLicence,
      channel: "chat",
      mode: "auto",
      language: arrival.language,
      priority: 0,
    });
    if (!created.ok) {
      counters.refusedCreates++;
      return;
    }
    this.clientOf.set(created.requestId, arrival.clientId);
    this.trace({ at: arrival.at, action: "create", clientId: arrival.clientId });
    this.agenda.add(arrival.at + arrival.patienceMs, { kind: "give-up", requestId: created.requestId, clientId: arrival.clientId });
  }

  private async answer(item: Extract<Happening, { kind: "answer" }>, counters: DayCounters): Promise<void> {
    const advisor = this.advisors.get(item.advisorId)!;
    const b = advisor.behaviour;
    const state = await this.engine.store.getAdvisor(advisor.id);
    const load = state?.supply.active ?? 0;
    const hour = Math.floor(((this.clock.now() - this.population.dayStart) % 86_400_000) / HOUR_MS);
    const byLoad = b.acceptByLoad[Math.min(load, b.acceptByLoad.length - 1)] ?? 1;
    const byHour = b.acceptByHour?.[hour] ?? 1;
    const uplift = this.incentives ? 1 + b.incentiveResponse.acceptUplift : 1;
    const p = Math.min(1, b.acceptProbability * byLoad * byHour * uplift);
    const requestId = requestIdOfOffer(item.offerId)!;
    const offerIndex = (await this.engine.store.getRequest(requestId))?.offers.findIndex((o) => o.id === item.offerId) ?? -1;
    const traced = (action: "accept" | "decline") =>
      this.trace({ at: this.clock.now(), action, advisorId: advisor.id, clientId: this.clientOf.get(requestId)!, offerIndex });
    if (item.acceptDraw < p) {
      counters.accepts++;
      const accepted = await this.engine.accept(item.offerId, advisor.id);
      if (accepted.ok && !accepted.duplicate) {
        traced("accept");
        this.agenda.add(this.clock.now() + this.sample.durationMs(b.handleTime), { kind: "complete", requestId: accepted.requestId, advisorId: advisor.id });
      }
      return;
    }
    if (item.declineDraw < b.declineShare) {
      counters.declines++;
      if ((await this.engine.decline(item.offerId, advisor.id)).ok) traced("decline");
    }
  }
}

/**
 * Journal drafts: what a store step that journals in the same atomic step writes, and how it
 * becomes the entry the record takes (materialize).
 *
 * A Lua script cannot build domain events, but everything they say follows from the decision (the
 * request after it, the offers it closed) plus what the engine knew before it ran (the event ids,
 * the time, the funnel's stage names, the demand). The engine passes that as the draft's context;
 * the store writes context and decision together; the persister turns them into the entry. The
 * ids are fixed by the draft, so materializing it again (a retried batch) gives the same events.
 */
import type { EligibilitySnapshot, IneligibleReason } from "../domain/eligibility.ts";
import type { Pool } from "../domain/types.ts";
import type { Demand, DomainEvent } from "../events.ts";
import type { LiveRequest, OfferState } from "../store/port.ts";
import type { JournalEntry } from "./port.ts";

/** What the engine knows before an accept runs, for the accept's events. */
export interface AcceptContext {
  kind: "accept";
  /**
   * Event ids, used in order. More events than ids (more superseded offers than the engine saw)
   * take `<first id>_<n>`: still unique, and the same on every materialization.
   */
  eventIds: string[];
  /** When the engine decided (the events' time). */
  at: number;
  /** The pools of the request's funnel stages, in order; an index past them is the queue. */
  stages: Pool[];
  demand: Demand;
}

/** What the engine knows before a request ends (completed, cancelled or expired), for its events. */
export interface EndContext {
  kind: "end";
  /** As AcceptContext.eventIds: one per withdrawn offer, then the ending event. */
  eventIds: string[];
  at: number;
  stages: Pool[];
}

/** What the engine knows before an offer is closed (declined, timed out, withdrawn), for its event. */
export interface CloseContext {
  kind: "close";
  eventIds: string[];
  at: number;
  stages: Pool[];
  /** Why the engine withdrew the offer (withdrawOffer), e.g. "licence_lapsed"; on offer.withdrawn. */
  reason?: string;
}

/** What the engine knows before an offer round, for its events. */
export interface OfferContext {
  kind: "offer";
  /** As AcceptContext.eventIds: request.decided, then one offer.sent per offer. */
  eventIds: string[];
  at: number;
  stages: Pool[];
  /** The round's pool (the plan's: "queue" when offering from the queue). */
  pool: Pool | "queue";
  /** The pool the round's candidates came from (for the queue, the funnel's widest): the offers' stage. */
  reach: Pool;
  /** Candidates the rules refused, by rule (request.decided). */
  excluded: Record<IneligibleReason, string[]>;
}

/** What the engine knows before a stage move, for its event. */
export interface AdvanceContext {
  kind: "advance";
  eventIds: string[];
  at: number;
  stages: Pool[];
}

/** What the engine knows before it takes a request back from its advisor (redispatch). */
export interface ReopenContext {
  kind: "reopen";
  eventIds: string[];
  at: number;
  stages: Pool[];
  /** The advisor it was taken from, and why. */
  advisorId: string;
  reason: string;
}

export type DraftContext = AcceptContext | EndContext | CloseContext | OfferContext | AdvanceContext | ReopenContext;

/** An accept as its store step journals it. */
export interface AcceptDraft {
  context: AcceptContext;
  /** The request after the accept. */
  request: LiveRequest;
  /** The accepted offer. */
  offer: OfferState;
  /** The other offers the accept closed (lost_race or withdrawn). */
  superseded: OfferState[];
}

/** A request's end as its store step journals it. */
export interface EndDraft {
  context: EndContext;
  /** The request after it ended. */
  request: LiveRequest;
  /** The offers the end withdrew. */
  withdrawn: OfferState[];
}

/** A closed offer as its store step journals it. */
export interface CloseDraft {
  context: CloseContext;
  /** The request after the offer closed. */
  request: LiveRequest;
  /** The offer, closed. */
  offer: OfferState;
}

/** An offer round as its store step journals it. */
export interface OfferDraft {
  context: OfferContext;
  /** The request after the round. */
  request: LiveRequest;
  /** The offers made, each with why its advisor was eligible. */
  offers: Array<{ offer: OfferState; eligibility: EligibilitySnapshot }>;
}

/** A stage move or a redispatch as its store step journals it: the request after it. */
export interface RequestDraft {
  context: AdvanceContext | ReopenContext;
  request: LiveRequest;
}

export type Draft = AcceptDraft | EndDraft | CloseDraft | OfferDraft | RequestDraft;

const stageOf = (stages: Pool[], index: number): Pool | "queue" => stages[index] ?? "queue";

function idSource(ids: string[]): () => string {
  let next = 0;
  return () => {
    const id = ids[next] ?? `${ids[0]}_${next}`;
    next++;
    return id;
  };
}

/** The journal entry (request, offers, events) a draft stands for. */
export function materialize(draft: Draft): JournalEntry {
  switch (draft.context.kind) {
    case "accept":
      return materializeAccept(draft as AcceptDraft);
    case "end":
      return materializeEnd(draft as EndDraft);
    case "close":
      return materializeClose(draft as CloseDraft);
    case "offer":
      return materializeOffer(draft as OfferDraft);
    case "advance":
    case "reopen":
      return materializeRequest(draft as RequestDraft);
  }
}

function materializeRequest({ context, request }: RequestDraft): JournalEntry {
  const base = { requestId: request.facts.id, branchId: request.facts.branchId, at: context.at, id: idSource(context.eventIds)() };
  const stage = stageOf(context.stages, request.stageIndex);
  const event: DomainEvent =
    context.kind === "advance"
      ? { ...base, type: "request.stage_changed", stage, stageIndex: request.stageIndex }
      : {
          ...base,
          type: "request.redispatched",
          clientId: request.facts.clientId,
          advisorId: context.advisorId,
          reason: context.reason,
          stage,
          stageIndex: request.stageIndex,
        };
  return entryFor(request, context.stages, [], [event]);
}

function materializeOffer({ context, request, offers }: OfferDraft): JournalEntry {
  const nextId = idSource(context.eventIds);
  const base = { requestId: request.facts.id, branchId: request.facts.branchId, at: context.at };
  const events: DomainEvent[] = [
    { ...base, id: nextId(), type: "request.decided", stage: context.pool, offered: offers.map((o) => o.offer.advisorId), excluded: context.excluded },
    ...offers.map(
      ({ offer, eligibility }): DomainEvent => ({
        ...base,
        id: nextId(),
        type: "offer.sent",
        offerId: offer.id,
        advisorId: offer.advisorId,
        kind: offer.kind,
        stage: context.pool,
        expiresAt: offer.expiresAt,
        eligibility,
      }),
    ),
  ];
  const entry = entryFor(
    request,
    context.stages,
    offers.map((o) => o.offer),
    events,
  );
  // The new offers carry their eligibility snapshot and the pool they were made in.
  const made = new Map(offers.map((o) => [o.offer.id, o.eligibility]));
  entry.offers = entry.offers.map((change) =>
    made.has(change.offer.id) ? { ...change, eligibility: made.get(change.offer.id)!, stage: context.reach } : change,
  );
  return entry;
}

function materializeClose({ context, request, offer }: CloseDraft): JournalEntry {
  const base = {
    requestId: request.facts.id,
    branchId: request.facts.branchId,
    at: context.at,
    id: idSource(context.eventIds)(),
    offerId: offer.id,
    advisorId: offer.advisorId,
  };
  const event: DomainEvent =
    offer.outcome === "declined"
      ? { ...base, type: "offer.declined" }
      : offer.outcome === "timed_out"
        ? { ...base, type: "offer.timed_out" }
        : { ...base, type: "offer.withdrawn", outcome: "withdrawn", ...(context.reason ? { reason: context.reason } : {}) };
  return entryFor(request, context.stages, [offer], [event]);
}

function entryFor(request: LiveRequest, stages: Pool[], changed: OfferState[], events: DomainEvent[]): JournalEntry {
  const ids = new Set(changed.map((o) => o.id));
  return {
    requestId: request.facts.id,
    rev: request.rev,
    request,
    stage: request.stageIndex < stages.length ? stages[request.stageIndex]! : null,
    // Every entry carries all of the request's offers (the changed ones first), so a later entry
    // recreates what an earlier, lost one would have recorded.
    offers: [...changed, ...request.offers.filter((o) => !ids.has(o.id))].map((o) => ({ offer: o, stage: stageOf(stages, o.stageIndex) })),
    events,
  };
}

function materializeAccept({ context, request, offer, superseded }: AcceptDraft): JournalEntry {
  const nextId = idSource(context.eventIds);
  const base = { requestId: request.facts.id, branchId: request.facts.branchId, at: context.at };
  const events: DomainEvent[] = [
    ...superseded.map(
      (lost): DomainEvent => ({
        ...base,
        id: nextId(),
        type: "offer.withdrawn",
        offerId: lost.id,
        advisorId: lost.advisorId,
        outcome: lost.outcome === "lost_race" ? "lost_race" : "withdrawn",
      }),
    ),
    {
      ...base,
      id: nextId(),
      type: "offer.accepted",
      offerId: offer.id,
      advisorId: offer.advisorId,
      latencyMs: (offer.respondedAt ?? context.at) - offer.sentAt,
      stage: stageOf(context.stages, offer.stageIndex),
      ...context.demand,
    },
    { ...base, id: nextId(), type: "request.assigned", advisorId: offer.advisorId, clientId: request.facts.clientId },
  ];
  return entryFor(request, context.stages, [offer, ...superseded], events);
}

function materializeEnd({ context, request, withdrawn }: EndDraft): JournalEntry {
  const nextId = idSource(context.eventIds);
  const base = { requestId: request.facts.id, branchId: request.facts.branchId, at: context.at };
  const clientId = request.facts.clientId;
  const assignee = request.assignedAdvisorId;
  const ending: DomainEvent =
    request.status === "completed"
      ? { ...base, id: "", type: "request.completed", advisorId: assignee!, clientId, requiredLicence: request.facts.requiredLicence }
      : request.status === "cancelled"
        ? { ...base, id: "", type: "request.cancelled", clientId, advisorId: assignee }
        : { ...base, id: "", type: "request.expired", clientId, callbackRequested: true };
  const events: DomainEvent[] = [
    ...withdrawn.map(
      (offer): DomainEvent => ({ ...base, id: nextId(), type: "offer.withdrawn", offerId: offer.id, advisorId: offer.advisorId, outcome: "withdrawn" }),
    ),
    { ...ending, id: nextId() },
  ];
  return entryFor(request, context.stages, withdrawn, events);
}

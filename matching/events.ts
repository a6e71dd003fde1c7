/**
 * Domain events: every request and offer transition, published on an in-process bus after it is
 * decided and persisted. The API/ws, incentives and compliance subscribe here.
 */
import type { EligibilitySnapshot, IneligibleReason } from "./domain/eligibility.ts";
import type { Channel, LicenceKind, OfferKind, Pool } from "./domain/types.ts";

interface Base {
  /** Unique per event: the idempotency root for subscribers (e.g. ledger awards). */
  id: string;
  at: number;
  requestId: string;
  branchId: string;
}

/**
 * Demand at the moment of an accept, recorded on the event so incentive rules (queue depth, surge)
 * evaluate the same way live and in simulation.
 */
export interface Demand {
  requiredLicence: LicenceKind;
  /** Requests of this licence kind waiting (pending or offered) in the branch. */
  queueDepth: number;
  /** queueDepth above the branch policy's surgeThreshold. */
  surge: boolean;
}

export type DomainEvent =
  | (Base & { type: "request.created"; clientId: string; requiredLicence: LicenceKind; priority: number; topic: string; channel: Channel })
  | (Base & {
      type: "offer.sent";
      offerId: string;
      advisorId: string;
      kind: OfferKind;
      stage: Pool | "queue";
      expiresAt: number;
      eligibility: EligibilitySnapshot;
    })
  | (Base & { type: "offer.accepted"; offerId: string; advisorId: string; latencyMs: number; stage: Pool | "queue" } & Demand)
  | (Base & { type: "offer.declined"; offerId: string; advisorId: string })
  | (Base & { type: "offer.timed_out"; offerId: string; advisorId: string })
  /** `reason` is set when the engine was asked to withdraw the offer (withdrawOffer), e.g. "licence_lapsed". */
  | (Base & { type: "offer.withdrawn"; offerId: string; advisorId: string; outcome: "withdrawn" | "lost_race"; reason?: string })
  | (Base & { type: "request.stage_changed"; stage: Pool | "queue"; stageIndex: number })
  /** One offer step's reasons: who was offered, and who the rules excluded, by rule. */
  | (Base & { type: "request.decided"; stage: Pool | "queue"; offered: string[]; excluded: Record<IneligibleReason, string[]> })
  | (Base & { type: "request.assigned"; advisorId: string; clientId: string })
  | (Base & { type: "request.completed"; advisorId: string; clientId: string; requiredLicence: LicenceKind })
  | (Base & { type: "request.cancelled"; clientId: string; advisorId: string | null })
  /** An assigned request taken back from its advisor (who left) and put back in the funnel. */
  | (Base & { type: "request.redispatched"; clientId: string; advisorId: string; reason: string; stage: Pool | "queue"; stageIndex: number })
  | (Base & { type: "request.expired"; clientId: string; callbackRequested: boolean })
  | (Base & { type: "request.rated"; advisorId: string; clientId: string; stars: number; requiredLicence: LicenceKind });

export type DomainEventType = DomainEvent["type"];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

type Handler = (event: DomainEvent) => void | Promise<void>;

/**
 * Fan-out to subscribers. A failing subscriber is reported and never breaks the publisher or the
 * other subscribers: the decision has already been made and persisted.
 *
 * Two kinds of subscriber. An attached one (the default) runs before publish returns: for effects
 * the next decision depends on (a connection must be open before the first message). A detached one
 * (`{ detached: true }`) runs after, in the background, one event at a time in publish order: for
 * effects nobody waits on (socket notifications, alerts), so they stay off the decision's critical
 * path. `drain()` waits until every detached subscriber has caught up (shutdown, tests).
 *
 * One event at a time caps a detached subscriber at 1 / (its time per event): one that awaits a
 * round trip per event falls behind for good once events arrive faster, and its backlog (and the
 * delay of everything in it) grows without bound. `lanes: n` runs up to n events at once, in n
 * serial lanes by request id, so one request's events keep their publish order.
 */
export class EventBus {
  private readonly handlers = new Set<Handler>();
  private readonly queues = new Set<DetachedQueue>();

  constructor(private readonly onHandlerError: (error: unknown, event: DomainEvent) => void = () => {}) {}

  subscribe(handler: Handler, options: { detached?: boolean; lanes?: number } = {}): () => void {
    if (!options.detached) {
      this.handlers.add(handler);
      return () => this.handlers.delete(handler);
    }
    const lanes = Math.max(1, Math.floor(options.lanes ?? 1));
    const queue: DetachedQueue = { handler, tails: Array.from({ length: lanes }, () => Promise.resolve()) };
    this.queues.add(queue);
    return () => this.queues.delete(queue);
  }

  async publish(event: DomainEvent): Promise<void> {
    for (const queue of this.queues) {
      const lane = queue.tails.length === 1 ? 0 : laneOf(event.requestId, queue.tails.length);
      queue.tails[lane] = queue.tails[lane]!.then(() => this.run(queue.handler, event));
    }
    await Promise.all([...this.handlers].map((handler) => this.run(handler, event)));
  }

  /** Resolves once every detached subscriber has handled every event published so far. */
  async drain(): Promise<void> {
    await Promise.all([...this.queues].flatMap((queue) => queue.tails));
  }

  private async run(handler: Handler, event: DomainEvent): Promise<void> {
    try {
      await handler(event);
    } catch (error) {
      this.onHandlerError(error, event);
    }
  }
}

interface DetachedQueue {
  handler: Handler;
  /** One serial chain per lane. */
  tails: Array<Promise<void>>;
}

/** The lane of a request id (FNV-1a): the same id always lands in the same lane. */
function laneOf(requestId: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) hash = Math.imul(hash ^ requestId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % lanes;
}

/**
 * Turns domain events into realtime messages for the people concerned. Runs on the process that made
 * the decision (the event bus is in-process) and publishes through the fan-out, so the message
 * reaches the user's socket on whichever process it is connected to.
 */
import { LRUCache } from "lru-cache";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { timeOfId } from "../../core/ids.ts";
import type { Logger } from "../../core/logger.ts";
import type { DomainEvent, EventBus } from "../../matching/events.ts";
import { listOpenOffers, type OpenOffer } from "../../matching/records/openOffers.ts";
import type { Principal } from "../../api/auth/principal.ts";
import type { Envelope, Fanout } from "../../api/realtime/fanout.ts";
import { clientUpdateStub } from "./clientUpdates.ts";

/** Offer details remembered from request.created, so an offer made on this process needs no read. */
const OFFER_DETAILS_CACHED = 10_000;

interface OfferDetails {
  /** Whose request it is: the address of its client updates. */
  clientId: string;
  topic: string;
  requiredLicence: string;
  channel: string;
  /** The request's createdAt, ISO 8601. */
  createdAt: string;
}

/**
 * The `offer` message an advisor's socket receives. `resent: true` marks one sent again when the
 * socket connected rather than when the offer was made; it is otherwise the same message.
 */
export function offerMessage(offer: OpenOffer, options: { resent?: boolean } = {}) {
  return { type: "offer" as const, offer, ...(options.resent ? { resent: true as const } : {}) };
}

/**
 * The hub's `onConnect`: an advisor's open offers, re-sent as `offer` messages, so offers made while
 * they had no socket (theirs dropped, or its process died) reach them without waiting for the
 * offer's timeout. Other roles get nothing.
 */
export function resendOpenOffers(prisma: PrismaClient): (principal: Principal) => Promise<unknown[]> {
  return async (principal) => {
    if (principal.role !== "advisor") return [];
    return (await listOpenOffers(prisma, principal.sub)).map((offer) => offerMessage(offer, { resent: true }));
  };
}

/**
 * Events after which the client gets the request's new state. The offer events are here because
 * they move the request between pending and offered (and add to its timeline); the client is not
 * told who was offered, the view carries no advisor until one is assigned. offer.accepted is not:
 * request.assigned follows it in the same decision and carries the same state.
 *
 * The update is rendered where it is delivered (clientUpdates.ts): the process holding the client's
 * socket reads the request's view from the record when the stub reaches it.
 *
 * The state is read from the record, which normally already holds the decision: the engine
 * publishes a decision's events after its journal entry is committed (Recorder.settle), but waits
 * for that at most RECORD_WAIT_MS (app/matching.ts). A record trailing further than that (a
 * persister far behind) shows the older state; the client's next update, or its GET (which
 * overlays the live status), brings it level.
 */
const CLIENT_UPDATES = new Set<DomainEvent["type"]>([
  "request.created",
  "offer.sent",
  "offer.declined",
  "offer.timed_out",
  "offer.withdrawn",
  "request.stage_changed",
  "request.assigned",
  "request.redispatched",
  "request.completed",
  "request.cancelled",
  "request.expired",
]);

/**
 * Requests whose notifications are handled at once (the bus's lanes; one request's stay in order).
 * Each notification awaits a Redis publish (and a client update's, on a miss, the request's client), so one at a
 * time caps delivery at a few hundred events a second: past that the backlog grew without bound and
 * offers reached advisors minutes after they had expired. Below the database pool (10), which the
 * decisions need too.
 */
export const NOTIFICATION_LANES = 8;

/**
 * The offer details of requests, remembered from request.created; the least recently used go first
 * when full. A miss (the request was created on another process, or long ago) reads the row.
 */
function offerDetailsCache(prisma: PrismaClient) {
  const offerDetails = new LRUCache<string, OfferDetails>({ max: OFFER_DETAILS_CACHED });
  const remember = (requestId: string, details: OfferDetails) => void offerDetails.set(requestId, details);
  const detailsOf = async (requestId: string): Promise<OfferDetails | null> => {
    const cached = offerDetails.get(requestId);
    if (cached) return cached;
    const read = await prisma.serviceRequest.findUnique({
      where: { id: requestId },
      select: { clientId: true, topic: true, requiredLicence: true, channel: true, createdAt: true },
    });
    if (!read) return null;
    const details = { ...read, createdAt: read.createdAt.toISOString() };
    remember(requestId, details);
    return details;
  };
  return { remember, detailsOf, forget: (requestId: string) => offerDetails.delete(requestId) };
}

export interface NotificationOptions {
  /** The engine's clock: an offer already expired when its turn comes is not sent (default Date.now). */
  now?: () => number;
}

export function wireNotifications(bus: EventBus, fanout: Fanout, prisma: PrismaClient, logger: Logger, options: NotificationOptions = {}): () => void {
  const now = options.now ?? Date.now;
  const send = (envelope: Envelope) =>
    fanout.publish(envelope).catch((error) => logger.error({ err: error, type: envelope.message.type }, "realtime publish failed"));
  const publish = (to: string[], message: Envelope["message"]) => send({ to, message });

  const { remember, detailsOf, forget } = offerDetailsCache(prisma);

  // The newest client-visible event published for each request whose client update is still to be
  // sent. The update carries the request's state as read when it is sent, so an older one still
  // waiting behind a newer one would only repeat it: it is skipped (one publish, and where the client
  // has a socket one read, instead of several).
  // A broadcast publishes one offer.sent per advisor offered: each handler sends its advisor's offer
  // before it looks here, by when the decision's later events are published, so only the last reads.
  const newestUpdate = new Map<string, string>();
  const unwireNewest = bus.subscribe((event) => {
    if (CLIENT_UPDATES.has(event.type)) newestUpdate.set(event.requestId, event.id);
  });

  // Detached: delivery must never hold up the decision that caused it.
  const unwireDelivery = bus.subscribe(
    async (event) => {
      switch (event.type) {
        case "request.created":
          // The id carries the request's createdAt exactly; the event's own time is taken a little later.
          remember(event.requestId, {
            clientId: event.clientId,
            topic: event.topic,
            requiredLicence: event.requiredLicence,
            channel: event.channel,
            createdAt: new Date(timeOfId(event.requestId) ?? event.at).toISOString(),
          });
          break;
        case "offer.sent": {
          // Late delivery (a backlog): the advisor could no longer accept it, and the withdrawal follows.
          if (event.expiresAt <= now()) break;
          const request = await detailsOf(event.requestId);
          if (!request) break;
          await publish(
            [event.advisorId],
            offerMessage({
              offerId: event.offerId,
              requestId: event.requestId,
              kind: event.kind,
              expiresAt: new Date(event.expiresAt).toISOString(),
              // The offer is made at the decision's time, which its offer.sent event carries.
              sentAt: new Date(event.at).toISOString(),
              requestCreatedAt: request.createdAt,
              topic: request.topic,
              requiredLicence: request.requiredLicence,
              channel: request.channel,
            }),
          );
          break;
        }
        case "offer.withdrawn":
          await publish([event.advisorId], { type: "offer.withdrawn", offerId: event.offerId, requestId: event.requestId, reason: event.outcome });
          break;
        case "offer.timed_out":
          await publish([event.advisorId], { type: "offer.withdrawn", offerId: event.offerId, requestId: event.requestId, reason: "timed_out" });
          break;
        case "request.assigned":
          await publish([event.advisorId], { type: "request.assigned", requestId: event.requestId });
          break;
      }
      if (event.type === "request.assigned" || event.type === "request.cancelled" || event.type === "request.expired") forget(event.requestId);
      if (CLIENT_UPDATES.has(event.type) && newestUpdate.get(event.requestId) === event.id) {
        newestUpdate.delete(event.requestId);
        const clientId = "clientId" in event ? event.clientId : (await detailsOf(event.requestId))?.clientId;
        if (!clientId) return;
        await send(clientUpdateStub(clientId, event.requestId));
      }
    },
    { detached: true, lanes: NOTIFICATION_LANES },
  );
  return () => {
    unwireNewest();
    unwireDelivery();
  };
}

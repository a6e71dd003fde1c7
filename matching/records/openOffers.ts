/**
 * An advisor's open offers as recorded (outcome unset, not yet expired), soonest expiry first: what
 * `GET /v1/advisors/me/offers` answers and what the realtime hub re-sends when the advisor connects.
 * Offers are recorded before their `offer.sent` event is published, so a listing read after a socket
 * registered misses nothing that event would not also deliver to that socket.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { OfferKind } from "../domain/types.ts";

/** The most offers listed at once; far more than an advisor can hold open. */
const MAX_OPEN_OFFERS = 200;

export interface OpenOffer {
  offerId: string;
  requestId: string;
  kind: OfferKind;
  /** ISO 8601. */
  expiresAt: string;
  /**
   * ISO 8601, both on the server's clock: when the offer was made and when its request was. Their
   * difference is the server's own create-to-offer time, free of the client's and the network's
   * delays (the load tests report it next to what they measure end to end).
   */
  sentAt: string;
  requestCreatedAt: string;
  topic: string;
  requiredLicence: string;
  channel: string;
}

export async function listOpenOffers(prisma: PrismaClient, advisorId: string, now: Date = new Date()): Promise<OpenOffer[]> {
  const offers = await prisma.offer.findMany({
    where: { advisorId, outcome: null, expiresAt: { gt: now } },
    orderBy: { expiresAt: "asc" },
    take: MAX_OPEN_OFFERS,
    include: { request: { select: { topic: true, requiredLicence: true, channel: true, createdAt: true } } },
  });
  return offers.map((o) => ({
    offerId: o.id,
    requestId: o.requestId,
    kind: o.kind,
    expiresAt: o.expiresAt.toISOString(),
    sentAt: o.sentAt.toISOString(),
    requestCreatedAt: o.request.createdAt.toISOString(),
    topic: o.request.topic,
    requiredLicence: o.request.requiredLicence,
    channel: o.request.channel,
  }));
}

/**
 * Turns domain events into realtime messages for the people concerned. Runs on the process that made
 * the decision (the event bus is in-process) and publishes through the fan-out, so the message
 * reaches the user's socket on whichever process it is connected to.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Logger } from "../../core/logger.ts";
import type { DomainEvent, EventBus } from "../../matching/events.ts";
import { loadRequestView } from "../../matching/records/requestView.ts";
import type { Fanout } from "./fanout.ts";

/** Events after which the client gets the request's new state. */
const CLIENT_UPDATES = new Set<DomainEvent["type"]>(["request.created", "request.stage_changed", "request.assigned", "request.redispatched", "request.completed", "request.cancelled", "request.expired"]);

export function wireNotifications(bus: EventBus, fanout: Fanout, prisma: PrismaClient, logger: Logger): () => void {
  const publish = (to: string[], message: Record<string, unknown> & { type: string }) =>
    fanout.publish({ to, message }).catch((error) => logger.error({ err: error, type: message.type }, "realtime publish failed"));

  return bus.subscribe(async (event) => {
    switch (event.type) {
      case "offer.sent": {
        const request = await prisma.serviceRequest.findUnique({ where: { id: event.requestId }, select: { topic: true, requiredLicence: true, channel: true } });
        if (!request) return;
        await publish([event.advisorId], {
          type: "offer",
          offer: {
            offerId: event.offerId,
            requestId: event.requestId,
            kind: event.kind,
            expiresAt: new Date(event.expiresAt).toISOString(),
            topic: request.topic,
            requiredLicence: request.requiredLicence,
            channel: request.channel,
          },
        });
        return;
      }
      case "offer.withdrawn":
        await publish([event.advisorId], { type: "offer.withdrawn", offerId: event.offerId, requestId: event.requestId, reason: event.outcome });
        return;
      case "offer.timed_out":
        await publish([event.advisorId], { type: "offer.withdrawn", offerId: event.offerId, requestId: event.requestId, reason: "timed_out" });
        return;
      case "request.assigned":
        await publish([event.advisorId], { type: "request.assigned", requestId: event.requestId });
        break;
    }
    if (CLIENT_UPDATES.has(event.type)) {
      const view = await loadRequestView(prisma, event.requestId);
      if (!view) return;
      const { clientId, branchId: _branch, ...request } = view;
      await publish([clientId], { type: "request.updated", request });
    }
  });
}

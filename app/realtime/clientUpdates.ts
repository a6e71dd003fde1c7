/**
 * A client's `request.updated` messages, made where they are delivered. The process that handles
 * the event publishes a stub (the client and the request); each process that holds one of that
 * client's sockets reads the request's view and sends it (the hub's `render`, api/realtime/hub.ts).
 * A client with no socket open, such as a brokerage's app that polls over HTTP, costs no read: the
 * view read was about a third of the database statements of a request's whole life (the endToEnd
 * benchmark, whose clients poll).
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { loadRequestView } from "../../matching/records/requestView.ts";
import type { Envelope } from "../../api/realtime/fanout.ts";

export const CLIENT_UPDATE = "request.updated";

/** What notifications publish: to render, at delivery, into the request's current view. */
export function clientUpdateStub(clientId: string, requestId: string): Envelope {
  return { to: [clientId], message: { type: CLIENT_UPDATE, requestId }, render: true };
}

/**
 * The hub's renderer: the request's view as read now, addressed to the client it belongs to (the
 * hub sends it only where the stub was addressed). null for an unknown request or another stub.
 */
export function renderClientUpdates(prisma: PrismaClient): (stub: Envelope) => Promise<Envelope | null> {
  return async (stub) => {
    const requestId = stub.message.requestId;
    if (stub.message.type !== CLIENT_UPDATE || typeof requestId !== "string") return null;
    const view = await loadRequestView(prisma, requestId);
    if (!view) return null;
    const { clientId, branchId: _branch, liveRev: _rev, ...request } = view;
    return { to: [clientId], message: { type: CLIENT_UPDATE, request } };
  };
}

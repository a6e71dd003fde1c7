/**
 * Every bench advisor's realtime socket, with the offers they receive routed by request id: a load
 * generator creates a request and then waits here for the offer, whichever advisor it went to. The
 * arrival time is taken when the message is read, before any waiter runs, so it measures delivery.
 */
import WebSocket from "ws";
import type { BenchPerson } from "./directorySetup.ts";

export interface ArrivedOffer {
  offerId: string;
  requestId: string;
  advisor: BenchPerson;
  /** performance.now() when the message was read from the socket. */
  receivedAt: number;
  /**
   * The server's own time from the request to the offer, by its clock (the offer message's `sentAt`
   * minus `requestCreatedAt`, whole milliseconds): what the client's wait spends inside the
   * decision, as against the HTTP call, the record and the delivery around it.
   */
  serverMs: number;
}

export class OfferInbox {
  private readonly sockets: WebSocket[] = [];
  /** Offers nobody waits for yet: the offer can arrive before the create call's response does. */
  private readonly unclaimed = new Map<string, ArrivedOffer>();
  private readonly waiters = new Map<string, (offer: ArrivedOffer) => void>();

  /** Opens one socket per advisor and resolves once every one has said hello. */
  static async open(baseUrl: string, advisors: BenchPerson[]): Promise<OfferInbox> {
    const inbox = new OfferInbox();
    try {
      await Promise.all(advisors.map((advisor) => inbox.connect(baseUrl, advisor)));
    } catch (error) {
      inbox.close();
      throw error;
    }
    return inbox;
  }

  private connect(baseUrl: string, advisor: BenchPerson): Promise<void> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/v1/ws?token=${encodeURIComponent(advisor.token)}`);
    this.sockets.push(ws);
    return new Promise((resolve, reject) => {
      ws.once("error", reject);
      ws.once("unexpected-response", (_request, response) => reject(new Error(`websocket refused: ${response.statusCode}`)));
      ws.on("message", (data) => {
        const receivedAt = performance.now();
        const message = JSON.parse(String(data));
        if (message.type === "hello") resolve();
        if (message.type !== "offer") return;
        const serverMs = Date.parse(message.offer.sentAt) - Date.parse(message.offer.requestCreatedAt);
        this.arrived({ offerId: message.offer.offerId, requestId: message.offer.requestId, advisor, receivedAt, serverMs });
      });
    });
  }

  private arrived(offer: ArrivedOffer): void {
    const waiter = this.waiters.get(offer.requestId);
    if (waiter) {
      this.waiters.delete(offer.requestId);
      waiter(offer);
    } else {
      this.unclaimed.set(offer.requestId, offer);
    }
  }

  /** The first offer for a request, already arrived or arriving within timeoutMs. */
  offerFor(requestId: string, timeoutMs: number): Promise<ArrivedOffer> {
    const early = this.unclaimed.get(requestId);
    if (early) {
      this.unclaimed.delete(requestId);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        reject(new Error(`no offer for ${requestId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(requestId, (offer) => {
        clearTimeout(timer);
        resolve(offer);
      });
    });
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
  }
}

/**
 * One client request's life through our API, as the apps drive it: the client creates a request,
 * the offer arrives on an advisor's socket, the advisor accepts it and then completes it, so the
 * advisor's capacity frees for the next request.
 */
import { BENCH_LICENCE, type BenchPerson } from "./directorySetup.ts";
import { expectStatus } from "./httpJson.ts";
import type { OfferInbox } from "./offerInbox.ts";

export interface FlowTimes {
  /** performance.now() just before the create call was sent. */
  createdAt: number;
  offerReceivedAt: number;
  /** The server's own request-to-offer time (ArrivedOffer.serverMs). */
  offerServerMs: number;
  acceptedAt: number;
  completedAt: number;
}

const OFFER_TIMEOUT_MS = 10_000;

export async function runDispatchFlow(baseUrl: string, inbox: OfferInbox, client: BenchPerson): Promise<FlowTimes> {
  const createdAt = performance.now();
  const { id: requestId } = await expectStatus<{ id: string }>(201, baseUrl, "POST", "/v1/requests", {
    token: client.token,
    body: { topic: "bench", requiredLicence: BENCH_LICENCE, channel: "chat", mode: "dispatch" },
  });
  const offer = await inbox.offerFor(requestId, OFFER_TIMEOUT_MS);
  await expectStatus(200, baseUrl, "POST", `/v1/offers/${offer.offerId}/accept`, { token: offer.advisor.token });
  const acceptedAt = performance.now();
  await expectStatus(200, baseUrl, "POST", `/v1/requests/${requestId}/complete`, { token: offer.advisor.token });
  return { createdAt, offerReceivedAt: offer.receivedAt, offerServerMs: offer.serverMs, acceptedAt, completedAt: performance.now() };
}

/**
 * The in-memory makeOffers (see MatchingStore.makeOffers): the request's checks, the advisors'
 * holds or checks, the offers recorded and the deadline moved, synchronously, so nothing
 * interleaves. The same steps, in the same order, as lua/makeOffers.lua.
 */
import type { EligibilitySnapshot } from "../../domain/eligibility.ts";
import type { OfferRoundInput, OfferRoundResult, OfferState } from "../port.ts";
import type { RequestBook } from "./demand.ts";
import type { AdvisorBook } from "./supply.ts";

export function makeOffers(advisors: AdvisorBook, requests: RequestBook, input: OfferRoundInput): OfferRoundResult {
  const { requestId, kind, now, expiresAt, presenceTtlMs } = input;
  const request = requests.get(requestId);
  if (!request) return { ok: false, reason: "NOT_FOUND" };
  if (request.status !== "pending" && request.status !== "offered") return { ok: false, reason: "NOT_LIVE" };
  if (request.stageIndex !== input.stageIndex) return { ok: false, reason: "STAGE_CHANGED" };

  const skip = new Set([...request.excluded, ...request.offers.filter((o) => o.outcome === null).map((o) => o.advisorId)]);
  const wanted = kind === "push" ? 1 : input.count;
  const made: Array<{ offer: OfferState; eligibility: EligibilitySnapshot }> = [];
  for (const { advisorId, offerId } of input.candidates) {
    if (made.length >= wanted) break;
    if (skip.has(advisorId)) continue;
    skip.add(advisorId);
    const checked =
      kind === "push"
        ? advisors.holdPushSlot(advisorId, request.facts, offerId, now, presenceTtlMs)
        : advisors.checkBroadcastEligibility(advisorId, request.facts, now, presenceTtlMs);
    if (!checked.ok) continue;
    const offer: OfferState = {
      id: offerId,
      requestId,
      advisorId,
      kind,
      stageIndex: request.stageIndex,
      sentAt: now,
      expiresAt,
      outcome: null,
      respondedAt: null,
    };
    made.push({ offer, eligibility: checked.snapshot });
  }
  if (!made.length) return { ok: true, request, offers: [], journalId: null };

  const added = requests.addOffers(
    requestId,
    input.stageIndex,
    made.map((m) => m.offer),
    now,
  );
  // Checked above and nothing ran since, with excluded and already-offered advisors skipped.
  if (!added.ok) throw new Error(`memory matching store: offers for ${requestId} refused after checking them (${added.reason})`);
  requests.setDeadline(requestId, expiresAt);
  return { ok: true, request: added.request, offers: made, journalId: null };
}

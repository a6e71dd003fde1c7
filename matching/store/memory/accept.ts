/**
 * The in-memory acceptOffer (see MatchingStore.acceptOffer): the request's checks, then the
 * advisor's, then every effect, all synchronous, so no other call interleaves and a refusal at any
 * check changes nothing. The same steps, in the same order, as lua/acceptOffer.lua.
 */
import type { AcceptInput, AcceptResult } from "../port.ts";
import type { RequestBook } from "./demand.ts";
import type { AdvisorBook } from "./supply.ts";

export function acceptOffer(advisors: AdvisorBook, requests: RequestBook, input: AcceptInput): AcceptResult {
  const { requestId, offerId, advisorId, now, presenceTtlMs } = input;
  const checked = requests.checkClaim(requestId, offerId, advisorId, now);
  if (!checked.ok) return checked;
  const known = advisors.get(advisorId);
  if (!known) return { ok: false, reason: "UNKNOWN_ADVISOR", detail: `advisor ${advisorId} is not registered` };
  if (checked.duplicate) {
    return { ok: true, request: checked.request, offer: checked.offer, superseded: [], advisor: known, duplicate: true, journalId: null };
  }

  const slot = advisors.takeAssignment(advisorId, checked.request.facts, offerId, now, presenceTtlMs);
  if (!slot.ok) return slot.reason === "PRESENCE" ? { ...slot, unheardSinceRestore: known.supply.heartbeatAt === 0 } : slot;
  const claim = requests.claim(requestId, offerId, advisorId, now);
  // checkClaim just passed and nothing ran since: the claim wins.
  if (!claim.ok || claim.duplicate) throw new Error(`memory matching store: accept of ${offerId} lost its claim after checking it`);
  for (const lost of claim.superseded) if (lost.kind === "push") advisors.releasePushHold(lost.advisorId, lost.id);
  advisors.recordAnswer(advisorId, { accepted: true, latencyMs: now - claim.offer.sentAt });
  requests.clearDeadline(requestId);
  return { ok: true, request: claim.request, offer: claim.offer, superseded: claim.superseded, advisor: slot.advisor, duplicate: false, journalId: null };
}

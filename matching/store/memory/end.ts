/**
 * The in-memory endRequest (see MatchingStore.endRequest): the request's end and every slot it
 * frees, synchronously, so nothing interleaves. The same steps, in the same order, as
 * lua/endRequest.lua.
 */
import type { EndInput, EndResult } from "../port.ts";
import type { RequestBook } from "./demand.ts";
import type { AdvisorBook } from "./supply.ts";

export function endRequest(advisors: AdvisorBook, requests: RequestBook, input: EndInput): EndResult {
  const { requestId, to, now, assignee } = input;
  const current = requests.get(requestId);
  if (current && assignee !== undefined && current.assignedAdvisorId !== assignee) return { ok: false, reason: "NOT_YOURS" };
  const holding = current?.status === "assigned" ? current.assignedAdvisorId : null;
  const ended = requests.finish(requestId, { to, now, ...(input.callbackRequested !== undefined ? { callbackRequested: input.callbackRequested } : {}) });
  if (!ended.ok) return ended;
  if (ended.duplicate) return { ok: true, request: ended.request, withdrawn: [], freed: [], duplicate: true, journalId: null };

  const freed = [];
  if (holding) {
    const before = advisors.get(holding);
    if (before?.assignments.includes(requestId)) freed.push(advisors.releaseAssignment(holding, requestId)!);
  }
  for (const offer of ended.withdrawn) {
    if (offer.kind !== "push") continue;
    if (advisors.get(offer.advisorId)?.pushHolds.includes(offer.id)) freed.push(advisors.releasePushHold(offer.advisorId, offer.id)!);
  }
  return { ok: true, request: ended.request, withdrawn: ended.withdrawn, freed, duplicate: false, journalId: null };
}

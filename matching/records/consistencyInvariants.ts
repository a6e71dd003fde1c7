/**
 * Invariants of the live store on its own (no PostgreSQL): what must hold between requests, their
 * offers, deadlines and the advisors' assignments and push holds whatever the record says. Pure:
 * the caller (consistency.ts) gathers the snapshot.
 *
 * The store changes them in several steps (an accept takes the advisor's slot, then claims the
 * request), so a snapshot taken under traffic may catch a step half-way; run it on a quiet store,
 * or read a repeated violation as real.
 */
import type { AdvisorState, LiveRequest, OfferState } from "../store/port.ts";
import { isTerminal } from "./consistencyCompare.ts";

export type ViolationKind = "double_assignment" | "capacity_overrun" | "assignment_mismatch" | "hold_mismatch" | "stuck";

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export interface LiveSnapshot {
  /** Every request the check loaded from the store, by id (terminal ones included). */
  requests: Map<string, LiveRequest>;
  /** The deadline of every non-terminal request in `requests` (null: none). */
  deadlines: Map<string, number | null>;
  /** Every advisor the check loaded from the store, by id. */
  advisors: Map<string, AdvisorState>;
}

export function checkInvariants(snapshot: LiveSnapshot, now: number, settleMs: number): Violation[] {
  return [
    ...doubleAssignments(snapshot),
    ...capacityOverruns(snapshot),
    ...assignmentMismatches(snapshot),
    ...holdMismatches(snapshot),
    ...stuckRequests(snapshot, now, settleMs),
  ];
}

/**
 * A request held by two advisors at once. This also covers "more than one accepted offer whose
 * advisor still holds it": every advisor with an offer for a loaded request is in the snapshot.
 * Several accepted offers alone are fine: a request taken back from an advisor who left keeps the
 * old accept.
 */
function doubleAssignments({ advisors }: LiveSnapshot): Violation[] {
  const holders = new Map<string, string[]>();
  for (const advisor of advisors.values()) {
    for (const requestId of advisor.assignments) holders.set(requestId, [...(holders.get(requestId) ?? []), advisor.profile.id]);
  }
  return [...holders]
    .filter(([, ids]) => ids.length > 1)
    .map(([requestId, ids]) => ({ kind: "double_assignment", detail: `${requestId} is held by ${ids.join(", ")}` }));
}

/** Push holds count against capacity like assignments do (takeAssignment and holdPushSlot check both). */
function capacityOverruns({ advisors }: LiveSnapshot): Violation[] {
  const violations: Violation[] = [];
  for (const { profile, supply, assignments } of advisors.values()) {
    const max = profile.maxConcurrent;
    if (assignments.length > max)
      violations.push({ kind: "capacity_overrun", detail: `${profile.id} holds ${assignments.length} assignments, maxConcurrent ${max}` });
    else if (supply.active + supply.pendingPush > max)
      violations.push({
        kind: "capacity_overrun",
        detail: `${profile.id} has active ${supply.active} + pendingPush ${supply.pendingPush} > maxConcurrent ${max}`,
      });
  }
  return violations;
}

/** Both directions: the advisor's list against the request's assignee, and the counter against the list. */
function assignmentMismatches({ requests, advisors }: LiveSnapshot): Violation[] {
  const violations: Violation[] = [];
  for (const { profile, supply, assignments } of advisors.values()) {
    if (supply.active !== assignments.length)
      violations.push({ kind: "assignment_mismatch", detail: `${profile.id} has supply.active ${supply.active} but ${assignments.length} assignments` });
    for (const requestId of assignments) {
      const request = requests.get(requestId);
      if (request?.status !== "assigned" || request.assignedAdvisorId !== profile.id) {
        violations.push({
          kind: "assignment_mismatch",
          detail: `${profile.id} holds ${requestId}, which the store has ${request ? `${request.status}, assignee ${request.assignedAdvisorId}` : "not at all"}`,
        });
      }
    }
  }
  for (const request of requests.values()) {
    if (request.status !== "assigned") continue;
    const advisor = request.assignedAdvisorId ? advisors.get(request.assignedAdvisorId) : undefined;
    if (!advisor?.assignments.includes(request.facts.id)) {
      violations.push({
        kind: "assignment_mismatch",
        detail: `${request.facts.id} is assigned to ${request.assignedAdvisorId}, whose assignments ${advisor ? "lack it" : "are unknown to the store"}`,
      });
    }
  }
  return violations;
}

/** Every open push offer holds one slot of its advisor, and every hold belongs to an open push offer. */
function holdMismatches({ requests, advisors }: LiveSnapshot): Violation[] {
  const violations: Violation[] = [];
  const offers = new Map<string, OfferState>();
  for (const request of requests.values()) for (const offer of request.offers) offers.set(offer.id, offer);

  for (const { profile, supply, pushHolds } of advisors.values()) {
    if (supply.pendingPush !== pushHolds.length)
      violations.push({ kind: "hold_mismatch", detail: `${profile.id} has supply.pendingPush ${supply.pendingPush} but ${pushHolds.length} push holds` });
    for (const offerId of pushHolds) {
      const offer = offers.get(offerId);
      if (offer?.kind !== "push" || offer.outcome !== null || offer.advisorId !== profile.id) {
        violations.push({
          kind: "hold_mismatch",
          detail: `${profile.id} holds a slot for ${offerId}, which is ${offer ? `a ${offer.kind} offer to ${offer.advisorId}, outcome ${offer.outcome}` : "unknown"}`,
        });
      }
    }
  }
  for (const offer of offers.values()) {
    if (offer.kind !== "push" || offer.outcome !== null) continue;
    if (!advisors.get(offer.advisorId)?.pushHolds.includes(offer.id)) {
      violations.push({ kind: "hold_mismatch", detail: `open push offer ${offer.id} (${offer.requestId}) holds no slot of ${offer.advisorId}` });
    }
  }
  return violations;
}

/**
 * Requests nothing will move on: the funnel only runs when a request's deadline fires, and open
 * offers only close by an answer or by that deadline. `settleMs` is how late the sweepers may be
 * (their lease and safety-net interval) before lateness counts as stuck.
 */
function stuckRequests({ requests, deadlines }: LiveSnapshot, now: number, settleMs: number): Violation[] {
  const violations: Violation[] = [];
  const late = now - settleMs;
  for (const request of requests.values()) {
    const id = request.facts.id;
    const open = request.offers.filter((o) => o.outcome === null);
    const deadline = deadlines.get(id) ?? null;
    if (request.status === "pending" || request.status === "offered") {
      if (deadline === null) violations.push({ kind: "stuck", detail: `${id} is ${request.status} with no deadline` });
      else if (deadline < late) violations.push({ kind: "stuck", detail: `${id} has a deadline ${now - deadline} ms overdue` });
    }
    if (request.status === "offered" && open.length === 0) violations.push({ kind: "stuck", detail: `${id} is offered with no open offer` });
    for (const offer of open) {
      if (offer.expiresAt < late) violations.push({ kind: "stuck", detail: `open offer ${offer.id} (${id}) expired ${now - offer.expiresAt} ms ago` });
    }
    if (isTerminal(request.status) && open.length) violations.push({ kind: "stuck", detail: `${id} is ${request.status} with ${open.length} open offer(s)` });
  }
  return violations;
}

/**
 * The worked example of the incentives issue, shared by the pure evaluator tests and the ledger
 * pipeline test: a London branch's rules and a scripted day of events, with the decisions they must
 * produce (hand-computed in the comments).
 */
import type { AwardDecision, EvaluableEvent } from "../../../incentives/evaluate.ts";
import type { STAGE_POOLS } from "../../../matching/domain/policy.ts";
import type { LicenceKind } from "../../../matching/domain/types.ts";

export const LONDON = "Europe/London";
export const BRANCH = "br-london";

// ---------------------------------------------------------------------------------------------
// Event builders. Every event carries the demand facts (requiredLicence, queueDepth, surge) so the
// builders fit both the engine's events and the evaluator's optional enrichment.

type Stage = (typeof STAGE_POOLS)[number];

export interface Extra {
  queueDepth?: number;
  requiredLicence?: LicenceKind;
  stage?: Stage;
}

export function accepted(id: string, advisorId: string, at: number, latencySeconds: number, extra: Extra = {}): EvaluableEvent {
  return {
    type: "offer.accepted",
    id,
    at,
    requestId: `req-${id}`,
    branchId: BRANCH,
    offerId: `off-${id}`,
    advisorId,
    latencyMs: latencySeconds * 1000,
    stage: extra.stage ?? "branch",
    requiredLicence: extra.requiredLicence ?? "fund_sales",
    queueDepth: extra.queueDepth ?? 0,
    surge: false,
  };
}

export function declined(id: string, advisorId: string, at: number): EvaluableEvent {
  return { type: "offer.declined", id, at, requestId: `req-${id}`, branchId: BRANCH, offerId: `off-${id}`, advisorId };
}

export function timedOut(id: string, advisorId: string, at: number): EvaluableEvent {
  return { type: "offer.timed_out", id, at, requestId: `req-${id}`, branchId: BRANCH, offerId: `off-${id}`, advisorId };
}

export function rated(id: string, advisorId: string, at: number, stars: number): EvaluableEvent {
  return { type: "request.rated", id, at, requestId: `req-${id}`, branchId: BRANCH, advisorId, clientId: "cli-1", stars, requiredLicence: "fund_sales" };
}

export function completed(id: string, advisorId: string, at: number, extra: Extra = {}): EvaluableEvent {
  const event: EvaluableEvent = {
    type: "request.completed",
    id,
    at,
    requestId: `req-${id}`,
    branchId: BRANCH,
    advisorId,
    clientId: "cli-1",
    requiredLicence: extra.requiredLicence ?? "fund_sales",
  };
  return extra.queueDepth === undefined ? event : { ...event, queueDepth: extra.queueDepth };
}

export function assigned(id: string, advisorId: string, at: number): EvaluableEvent {
  return { type: "request.assigned", id, at, requestId: `req-${id}`, branchId: BRANCH, advisorId, clientId: "cli-1" };
}

export function posted(eventId: string, ruleId: string, advisorId: string, points: number, ruleSetVersion = 1): AwardDecision {
  return { eventId, ruleId, ruleSetVersion, advisorId, points, status: "posted" };
}

export function skipped(
  eventId: string,
  ruleId: string,
  advisorId: string,
  points: number,
  reason: AwardDecision["reason"],
  ruleSetVersion = 1,
): AwardDecision {
  return { eventId, ruleId, ruleSetVersion, advisorId, points, status: "skipped", reason };
}

// ---------------------------------------------------------------------------------------------
// THE WORKED EXAMPLE

/**
 * The London branch's rules, as a manager would write them.
 * - fast-accept: an accept within 10 s earns 5.
 * - five-star: a five-star rating earns 10.
 * - night-accept, night-rating: 22:00–06:00 local doubles the award (accepts and ratings).
 * - streak-5: a run of 5 accepts earns 20, at most once a local day.
 */
export const WORKED_RULES = `{
  "rules": [
    { "id": "fast-accept", "on": "offer.accepted", "when": { "responseSecondsAtMost": 10 }, "award": { "points": 5 } },
    { "id": "five-star", "on": "request.rated", "when": { "starsAtLeast": 5 }, "award": { "points": 10 } },
    { "id": "night-accept", "on": "offer.accepted", "when": { "localHourIn": { "from": 22, "to": 6 } }, "award": { "multiplier": 2 } },
    { "id": "night-rating", "on": "request.rated", "when": { "localHourIn": { "from": 22, "to": 6 } }, "award": { "multiplier": 2 } },
    { "id": "streak-5", "on": "offer.accepted", "when": { "streakAtLeast": 5 }, "award": { "points": 20 }, "caps": { "perAdvisorPerDay": 1 } }
  ],
  "budget": { "points": 90, "period": "week" }
}`;

/**
 * Wednesday 10 June 2026 in London, which is on summer time (BST = UTC+1): local hh:mm is UTC hh-1:mm.
 * 00:30 local is 23:30 UTC on the 9th, 22:15 local is 21:15 UTC: only the branch timezone gets the
 * day and the night hours right.
 */
export const local = (hh: number, mm: number): number => Date.UTC(2026, 5, 10, hh - 1, mm);

export const WORKED_DAY: EvaluableEvent[] = [
  accepted("a1", "ana", local(0, 30), 4), //   ana streak 1, night:  fast 5 ×2 = 10 posted        (used 10)
  accepted("a2", "ana", local(5, 30), 8), //   ana streak 2, night:  fast 10 posted               (used 20)
  accepted("a3", "ana", local(6, 0), 3), //    ana streak 3, 06:00 is day (half-open): fast 5     (used 25)
  accepted("b1", "ben", local(8, 0), 15), //   ben streak 1, slow: nothing
  timedOut("b2", "ben", local(8, 5)), //        ben streak 0
  accepted("a4", "ana", local(9, 0), 25), //   ana streak 4, slow: nothing
  accepted("a5", "ana", local(9, 30), 7), //   ana streak 5: fast 5 (used 30), streak-5 20 (used 50)
  declined("a6", "ana", local(10, 0)), //       ana streak 0: the decline breaks the run
  accepted("a7", "ana", local(11, 0), 20), //  ana streak 1, slow: nothing (without the decline this
  accepted("a8", "ana", local(11, 30), 20), // ana streak 2      would be streak 6+ and a capped streak-5
  accepted("a9", "ana", local(12, 0), 20), //  ana streak 3      decision on each of a7–a10)
  accepted("a10", "ana", local(12, 30), 20), // ana streak 4
  accepted("a11", "ana", local(13, 0), 6), //  ana streak 5 again: fast 5 (used 55); streak-5 20 skipped: cap_per_day
  assigned("x1", "ben", local(13, 30)), //      passes through
  completed("x2", "ben", local(13, 45)), //     no rule on request.completed: passes through
  accepted("b3", "ben", local(14, 0), 2), //   ben streak 1: fast 5                                (used 60)
  rated("r1", "ana", local(15, 0), 5), //      five-star 10                                        (used 70)
  rated("r2", "ben", local(16, 0), 4), //      4 stars: nothing
  accepted("b4", "ben", local(22, 15), 9), //  night (21:15 UTC): fast 5 ×2 = 10                    (used 80)
  rated("r3", "ben", local(23, 0), 5), //      night: five-star 10 ×2 = 20 > 10 left: budget_exhausted
  accepted("c1", "cai", local(23, 30), 1), //  night: fast 10 still fits the 10 left                (used 90)
  accepted("c2", "cai", local(23, 45), 2), //  night: fast 10, nothing left: budget_exhausted
];

export const WORKED_DECISIONS: AwardDecision[] = [
  posted("a1", "fast-accept", "ana", 10),
  posted("a2", "fast-accept", "ana", 10),
  posted("a3", "fast-accept", "ana", 5),
  posted("a5", "fast-accept", "ana", 5),
  posted("a5", "streak-5", "ana", 20),
  posted("a11", "fast-accept", "ana", 5),
  skipped("a11", "streak-5", "ana", 20, "cap_per_day"),
  posted("b3", "fast-accept", "ben", 5),
  posted("r1", "five-star", "ana", 10),
  posted("b4", "fast-accept", "ben", 10),
  skipped("r3", "five-star", "ben", 20, "budget_exhausted"),
  posted("c1", "fast-accept", "cai", 10),
  skipped("c2", "fast-accept", "cai", 10, "budget_exhausted"),
];

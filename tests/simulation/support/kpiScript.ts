/**
 * The KPI test's scripted day (tests/reporting/support/scriptedDay.ts) as a DayScript the engine
 * plays: one branch in Asia/Kolkata, ten requests at the same local times on 2026-03-10, with the
 * same fates. scriptedDay.ts writes its rows by hand; here the real engine decides every offer and
 * stage, so the people's answers and presence are arranged to lead it to those fates:
 *
 * - r1 09:05 dedicated, accepted after 10 s, completed, 5 stars;
 * - r2 09:20 branch: the first offer declined, the second (to the other advisor) accepted, 4 stars;
 * - r3 09:40 branch: the first offer times out (30 s), the second accepted 40 s after asking, no rating;
 * - r4 10:00 region: the branch's advisors offline, the neighbour branch's C accepts; never completed;
 * - r5 10:50 national: only D, of another region, is on; 3 stars;
 * - r6 11:15 queue: nobody on, so it waits in the queue; A comes on and lets the offer time out, A2
 *   comes on and accepts, 100 s after asking; 2 stars;
 * - r7 11:45 dedicated, accepted after 3 s, cancelled by the client 2 min later (not abandoned);
 * - r8 12:10 branch: the client cancels while the offer is open (withdrawn);
 * - r9 12:40 nobody on: cancelled with no offer;
 * - r10 13:05: the first offer declined, the second times out, nobody else: the queue's wait (300 s)
 *   runs out and it expires with a callback.
 *
 * So created, assigned, completed, abandoned, callbacks, answeredByStage, offers and their decline
 * and timeout rates, meanRating and timeToAcceptMs except r5's are as in scriptedDay.ts, hour by
 * hour. Where this day differs, and why:
 * - timeToFirstOfferMs: the engine offers the moment someone is eligible, so every first offer is
 *   at 0 s except r6's (5 s, A coming on); the hand-written rows have 1-20 s.
 * - r5 is accepted after 15 s, not 60 s: a national offer is made at once and lasts 30 s (offerTtl),
 *   and nobody eligible at asking would send it past the national stage into the queue.
 * - Who answers: scriptedDay.ts gives every request to A; here the engine ranks A and A2 (r2, r3,
 *   r10 reach both), C (neighbour branch, region stage) and D (another region, national stage).
 * - r9 ends in the queue, not at the dedicated stage (no KPI reads an abandoned request's stage).
 * - Presence: short windows around the requests instead of A's and A2's long spans (the server
 *   needs a heartbeat every 20 s while available), so utilisation differs.
 * - pointsPerCompleted is 0: no incentive consumer runs, so no awards (scriptedDay.ts posts 65 points).
 * - No other-branch request and no evening-before request: those test the KPI query's filters, not
 *   the engine.
 */
import { DispatchPolicySchema, DEFAULT_DISPATCH_POLICY, type DispatchPolicy } from "../../../matching/domain/policy.ts";
import type { DayScript, ScriptedAnswer, ScriptedRequest } from "../../../simulation/script.ts";

export const TIMEZONE = "Asia/Kolkata";
/** Kolkata local midnight of 2026-03-10 (UTC+05:30, no daylight saving). */
export const DAY_START = Date.parse("2026-03-10T00:00:00.000+05:30");
/** An instant given as Kolkata local time on the day, hh:mm or hh:mm:ss. */
export const at = (time: string) => Date.parse(`2026-03-10T${time.length === 5 ? `${time}:00` : time}.000+05:30`);

export const BRANCH = "brn_kpi_day";
const NEIGHBOUR = "brn_kpi_neighbour";
const FAR = "brn_kpi_far";
export const A = "adv_kpi_a";
export const A2 = "adv_kpi_a2";
const C = "adv_kpi_c";
const D = "adv_kpi_d";

/**
 * Every stage a single push at a time, so each offer has its place in its request; short stages and
 * a five-minute queue wait, so a day of people reaches every stage and the callback in minutes.
 */
export const KPI_POLICY: DispatchPolicy = DispatchPolicySchema.parse({
  ...DEFAULT_DISPATCH_POLICY,
  stages: [
    { pool: "dedicated", mode: "dispatch", timeoutSeconds: 20, maxOffers: 1 },
    { pool: "branch", mode: "dispatch", timeoutSeconds: 60, maxOffers: 3 },
    { pool: "region", mode: "dispatch", timeoutSeconds: 30, maxOffers: 2 },
    { pool: "national", mode: "dispatch", timeoutSeconds: 30, maxOffers: 2 },
  ],
  offerTtlSeconds: 30,
  maxWaitSeconds: 300,
});

const accept = (seconds: number): ScriptedAnswer => ({ answer: "accept", afterMs: seconds * 1000 });
const decline = (seconds: number): ScriptedAnswer => ({ answer: "decline", afterMs: seconds * 1000 });
const NO_ANSWER = null;
const rated = (stars: number) => ({ stars, afterMs: 60_000 });

function request(key: string, time: string, rest: Partial<ScriptedRequest>): ScriptedRequest {
  return {
    at: at(time),
    clientId: `cli_kpi_${key}`,
    branchId: BRANCH,
    requiredLicence: "fund_sales",
    riskLevel: 2,
    language: "en",
    dedicatedAdvisorId: null,
    answers: [],
    ...rest,
  };
}

const REQUESTS: ScriptedRequest[] = [
  request("r1", "09:05", { dedicatedAdvisorId: A, answers: [accept(10)], handleMs: 110_000, rating: rated(5) }),
  request("r2", "09:20", { answers: [decline(4), accept(11)], handleMs: 105_000, rating: rated(4) }),
  request("r3", "09:40", { answers: [NO_ANSWER, accept(10)], handleMs: 80_000 }),
  request("r4", "10:00", { answers: [accept(5)] }),
  request("r5", "10:50", { answers: [accept(15)], handleMs: 60_000, rating: rated(3) }),
  request("r6", "11:15", { answers: [NO_ANSWER, accept(20)], handleMs: 60_000, rating: rated(2) }),
  request("r7", "11:45", { dedicatedAdvisorId: A, answers: [accept(3)], cancelAfterMs: 120_000 }),
  request("r8", "12:10", { answers: [NO_ANSWER], cancelAfterMs: 5_000 }),
  request("r9", "12:40", { dedicatedAdvisorId: A, cancelAfterMs: 30_000 }),
  request("r10", "13:05", { answers: [decline(1), NO_ANSWER] }),
];

/** [advisor, presence, local time]: each window opens a little before the requests it serves. */
const PRESENCE: Array<[string, "available" | "offline", string]> = [
  [A, "available", "09:04"],
  [A2, "available", "09:15"],
  [A, "offline", "09:50"],
  [A2, "offline", "09:50"],
  [C, "available", "09:58"],
  [C, "offline", "10:02"],
  [D, "available", "10:49"],
  [D, "offline", "10:55"],
  [A, "available", "11:15:05"],
  [A2, "available", "11:16:20"],
  [A, "offline", "11:20"],
  [A2, "offline", "11:20"],
  [A, "available", "11:44"],
  [A, "offline", "11:50"],
  [A, "available", "12:09"],
  [A, "offline", "12:12"],
  [A, "available", "13:04"],
  [A2, "available", "13:04"],
  [A, "offline", "13:11"],
  [A2, "offline", "13:11"],
];

const advisor = (id: string, branchId: string, region: string) => ({
  id,
  branchId,
  region,
  licences: ["fund_sales" as const],
  suitabilityMaxRisk: 5,
  languages: ["en"],
  maxConcurrent: 2,
});

export const KPI_SCRIPT: DayScript = {
  dayStart: DAY_START,
  branches: [
    { id: BRANCH, name: "KPI branch", region: "kpi_east", timezone: TIMEZONE },
    { id: NEIGHBOUR, name: "KPI neighbour", region: "kpi_east", timezone: TIMEZONE },
    { id: FAR, name: "KPI far", region: "kpi_west", timezone: TIMEZONE },
  ],
  advisors: [advisor(A, BRANCH, "kpi_east"), advisor(A2, BRANCH, "kpi_east"), advisor(C, NEIGHBOUR, "kpi_east"), advisor(D, FAR, "kpi_west")],
  presence: PRESENCE.map(([advisorId, presence, time]) => ({ at: at(time), advisorId, presence })),
  requests: REQUESTS,
};

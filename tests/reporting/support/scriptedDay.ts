/**
 * A scripted day of one branch in Asia/Kolkata (UTC+05:30, so local hours start at half past UTC
 * hours), written straight into the record the way the persister leaves it: ten requests with known
 * times, offers and outcomes, four ratings, award points posted through the real ledger (one of
 * them reversed), and the presence changes of its two advisors. Around it, rows that must not
 * count: a request of another branch in the same hour and its advisor's presence, one of the same
 * branch the evening before, an award for an event that names no request, and the branch's budget
 * funding. Ids are fresh per call, so the shared test database needs no cleanup.
 *
 * The hand-worked answers are in tests/reporting/kpis.test.ts.
 */
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { newId } from "../../../core/ids.ts";
import { fundBudget, postAward } from "../../../incentives/ledger/awards.ts";
import { reverseTransaction } from "../../../incentives/ledger/post.ts";
import { uniqueTag } from "../../support/services.ts";

export const TIMEZONE = "Asia/Kolkata";

/** An instant given as Kolkata local time on the scripted day, 2026-03-10 (no daylight saving there). */
export const local = (hhmm: string, day = "2026-03-10") => new Date(`${day}T${hhmm}:00.000+05:30`);

type Outcome = "accepted" | "declined" | "timed_out" | "withdrawn";

interface Script {
  key: string;
  at: string;
  status: "assigned" | "completed" | "cancelled" | "expired";
  /** Stage index and pool when it ended or was assigned (null: the queue). */
  stage: "dedicated" | "branch" | "region" | "national" | null;
  /** Offers as [ms after creation it was sent, outcome]; the first one sent is offeredAt. */
  offers: Array<[number, Outcome]>;
  /** ms after creation the accepted offer was answered (assignedAt). */
  acceptedAfter?: number;
  stars?: number;
  /** Points awarded for events of this request; a negative entry is an award later reversed. */
  points?: number[];
  callback?: boolean;
  /** Assigned and then cancelled: cancelled, but not abandoned. */
  cancelledAfterAssignment?: boolean;
  day?: string;
  otherBranch?: boolean;
}

const STAGE_INDEX = { dedicated: 0, branch: 1, region: 2, national: 3 } as const;

export const SCRIPT: Script[] = [
  { key: "r1", at: "09:05", status: "completed", stage: "dedicated", offers: [[2_000, "accepted"]], acceptedAfter: 10_000, stars: 5, points: [10, 20] },
  {
    key: "r2",
    at: "09:20",
    status: "completed",
    stage: "branch",
    offers: [
      [4_000, "declined"],
      [9_000, "accepted"],
    ],
    acceptedAfter: 15_000,
    stars: 4,
    points: [10],
  },
  {
    key: "r3",
    at: "09:40",
    status: "completed",
    stage: "branch",
    offers: [
      [6_000, "timed_out"],
      [37_000, "accepted"],
    ],
    acceptedAfter: 40_000,
    points: [10, -15],
  },
  // Exactly on the 10:00 boundary: the 10:00 bucket's.
  { key: "r4", at: "10:00", status: "assigned", stage: "region", offers: [[3_000, "accepted"]], acceptedAfter: 5_000 },
  { key: "r5", at: "10:50", status: "completed", stage: "national", offers: [[20_000, "accepted"]], acceptedAfter: 60_000, stars: 3 },
  {
    key: "r6",
    at: "11:15",
    status: "completed",
    stage: null,
    offers: [
      [5_000, "timed_out"],
      [40_000, "accepted"],
    ],
    acceptedAfter: 100_000,
    stars: 2,
    points: [5],
  },
  {
    key: "r7",
    at: "11:45",
    status: "cancelled",
    stage: "dedicated",
    offers: [[2_000, "accepted"]],
    acceptedAfter: 3_000,
    points: [10],
    cancelledAfterAssignment: true,
  },
  { key: "r8", at: "12:10", status: "cancelled", stage: "branch", offers: [[5_000, "withdrawn"]] },
  { key: "r9", at: "12:40", status: "cancelled", stage: "dedicated", offers: [] },
  {
    key: "r10",
    at: "13:05",
    status: "expired",
    stage: null,
    offers: [
      [1_000, "declined"],
      [10_000, "timed_out"],
    ],
    callback: true,
  },
  // Not the branch's scripted day: the evening before, and another branch in the 09:00 hour.
  {
    key: "eve",
    at: "23:50",
    day: "2026-03-09",
    status: "completed",
    stage: "branch",
    offers: [[1_000, "accepted"]],
    acceptedAfter: 2_000,
    stars: 1,
    points: [50],
  },
  {
    key: "other",
    at: "09:10",
    otherBranch: true,
    status: "completed",
    stage: "branch",
    offers: [[1_000, "accepted"]],
    acceptedAfter: 2_000,
    stars: 1,
    points: [100],
  },
];

export interface ScriptedDay {
  branchId: string;
  otherBranchId: string;
  requestIds: Record<string, string>;
}

async function directory(prisma: PrismaClient, tag: string) {
  const branchId = `brn_k${tag}`;
  const otherBranchId = `brn_ko${tag}`;
  await prisma.branch.createMany({
    data: [
      { id: branchId, name: "KPI branch", region: `r${tag}`, timezone: TIMEZONE },
      { id: otherBranchId, name: "KPI other branch", region: `r${tag}`, timezone: "UTC" },
    ],
  });
  const advisorId = `adv_k${tag}`;
  const secondAdvisorId = `adv_k2${tag}`;
  const otherAdvisorId = `adv_ko${tag}`;
  await prisma.advisor.createMany({
    data: [
      { id: advisorId, branchId, name: "A", maxConcurrent: 5, languages: ["en"], suitabilityMaxRisk: 5 },
      { id: secondAdvisorId, branchId, name: "A2", maxConcurrent: 5, languages: ["en"], suitabilityMaxRisk: 5 },
      { id: otherAdvisorId, branchId: otherBranchId, name: "B", maxConcurrent: 5, languages: ["en"], suitabilityMaxRisk: 5 },
    ],
  });
  const clientId = `cli_k${tag}`;
  const otherClientId = `cli_ko${tag}`;
  await prisma.client.createMany({
    data: [
      { id: clientId, branchId, name: "C", riskLevel: 2, language: "en" },
      { id: otherClientId, branchId: otherBranchId, name: "D", riskLevel: 2, language: "en" },
    ],
  });
  return { branchId, otherBranchId, advisorId, secondAdvisorId, otherAdvisorId, clientId, otherClientId };
}

/** The request row as the persister leaves it at the end of the script. */
function requestRow(s: Script, id: string, who: { branchId: string; clientId: string; advisorId: string }) {
  const createdAt = local(s.at, s.day);
  const after = (ms: number | undefined) => (ms === undefined ? null : new Date(createdAt.getTime() + ms));
  const assigned = s.acceptedAfter !== undefined;
  const endedAt = after(120_000);
  return {
    id,
    clientId: who.clientId,
    branchId: who.branchId,
    topic: "pension",
    requiredLicence: "fund_sales" as const,
    channel: "chat" as const,
    status: s.status,
    stage: s.stage,
    stageIndex: s.stage === null ? 4 : STAGE_INDEX[s.stage],
    callbackRequested: s.callback ?? false,
    assignedAdvisorId: assigned ? who.advisorId : null,
    createdAt,
    offeredAt: s.offers.length ? after(Math.min(...s.offers.map(([sent]) => sent))) : null,
    assignedAt: after(s.acceptedAfter),
    completedAt: s.status === "completed" ? endedAt : null,
    cancelledAt: s.status === "cancelled" ? endedAt : null,
    expiredAt: s.status === "expired" ? endedAt : null,
  };
}

function offerRows(s: Script, requestId: string, advisorId: string) {
  const createdAt = local(s.at, s.day).getTime();
  return s.offers.map(([sent, outcome]) => ({
    id: newId("offer"),
    requestId,
    advisorId,
    kind: "push" as const,
    stage: s.stage ?? ("national" as const),
    sentAt: new Date(createdAt + sent),
    expiresAt: new Date(createdAt + sent + 30_000),
    outcome,
    respondedAt: new Date(createdAt + sent + 1_000),
    eligibility: {},
  }));
}

/** Each award of the script is for its own event of the request (accept, completion, rating). */
async function awards(prisma: PrismaClient, s: Script, requestId: string, branchId: string, advisorId: string) {
  for (const [n, points] of (s.points ?? []).entries()) {
    const eventId = newId("auditEvent");
    const at = local(s.at, s.day);
    await prisma.eventLog.create({ data: { id: eventId, type: "request.completed", at, requestId, branchId, advisorId, data: {} } });
    // The request goes with the decision, as the incentive consumer passes its event's (incentives/consumer.ts).
    const awarded = await postAward(prisma, { eventId, ruleId: `rule_${n}`, ruleSetVersion: 1, branchId, advisorId, points: Math.abs(points), at, requestId });
    if (!awarded.ok || awarded.decision.status !== "posted") throw new Error(`fixture: award for ${s.key} not posted: ${JSON.stringify(awarded)}`);
    if (points < 0) {
      const reversed = await reverseTransaction(prisma, { transactionId: awarded.decision.transactionId!, idempotencyKey: `reverse:${eventId}` });
      if (!reversed.ok) throw new Error(`fixture: reversal for ${s.key} refused: ${reversed.reason}`);
    }
  }
}

/**
 * Presence changes (local times on the scripted day), as the engine and the expiry job record them:
 * A (who takes every request of the branch) is available from before 08:00, away 09:30-09:45, and
 * offline at 12:00; A2 is available 09:00-10:30 and again from 13:00 on (still available: open until
 * now); B, of the other branch, is available from 08:00 on (counts only for the other branch).
 */
async function presence(prisma: PrismaClient, d: Awaited<ReturnType<typeof directory>>) {
  const rows: Array<[string, string, "available" | "away" | "offline", string]> = [
    [d.advisorId, d.branchId, "available", "07:30"],
    [d.advisorId, d.branchId, "away", "09:30"],
    [d.advisorId, d.branchId, "available", "09:45"],
    [d.advisorId, d.branchId, "offline", "12:00"],
    [d.secondAdvisorId, d.branchId, "available", "09:00"],
    [d.secondAdvisorId, d.branchId, "offline", "10:30"],
    [d.secondAdvisorId, d.branchId, "available", "13:00"],
    [d.otherAdvisorId, d.otherBranchId, "available", "08:00"],
  ];
  await prisma.advisorPresenceChange.createMany({
    data: rows.map(([advisorId, branchId, presence, at]) => ({ id: newId("presenceChange"), advisorId, branchId, presence, at: local(at) })),
  });
}

export async function insertScriptedDay(prisma: PrismaClient): Promise<ScriptedDay> {
  const tag = uniqueTag();
  const d = await directory(prisma, tag);
  await presence(prisma, d);
  for (const branchId of [d.branchId, d.otherBranchId]) {
    const funded = await fundBudget(prisma, { branchId, points: 1_000, periodKey: `kpi-${tag}` });
    if (!funded.ok) throw new Error(`fixture: funding refused: ${funded.reason}`);
  }
  const requestIds: Record<string, string> = {};
  for (const s of SCRIPT) {
    const id = newId("request");
    requestIds[s.key] = id;
    const who = s.otherBranch
      ? { branchId: d.otherBranchId, clientId: d.otherClientId, advisorId: d.otherAdvisorId }
      : { branchId: d.branchId, clientId: d.clientId, advisorId: d.advisorId };
    await prisma.serviceRequest.create({ data: requestRow(s, id, who) });
    await prisma.offer.createMany({ data: offerRows(s, id, who.advisorId) });
    if (s.stars !== undefined) {
      await prisma.rating.create({ data: { id: newId("rating"), requestId: id, advisorId: who.advisorId, clientId: who.clientId, stars: s.stars } });
    }
    await awards(prisma, s, id, who.branchId, who.advisorId);
  }
  // An award for an event that names no request: points of the branch, but of no request.
  const loose = newId("auditEvent");
  await prisma.eventLog.create({ data: { id: loose, type: "advisor.bonus", at: local("09:30"), branchId: d.branchId, advisorId: d.advisorId, data: {} } });
  const awarded = await postAward(prisma, {
    eventId: loose,
    ruleId: "loose",
    ruleSetVersion: 1,
    branchId: d.branchId,
    advisorId: d.advisorId,
    points: 7,
    at: local("09:30"),
  });
  if (!awarded.ok) throw new Error(`fixture: loose award refused: ${awarded.reason}`);
  return { branchId: d.branchId, otherBranchId: d.otherBranchId, requestIds };
}

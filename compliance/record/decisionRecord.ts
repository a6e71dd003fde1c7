/**
 * The decision record of one request: everything a regulator asks to answer "why this advisor?",
 * assembled from what was recorded when it happened (request row, offers with their eligibility
 * snapshots, the event log's stage changes and matching decisions, connection, conversation,
 * rating). Nothing is recomputed from today's directory, which may have changed since; the one
 * exception is documented in funnelStages.ts.
 */
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import { getBranchPolicy } from "../../directory/policies.ts";
import { INELIGIBLE_REASONS, type EligibilitySnapshot, type IneligibleReason } from "../../matching/domain/eligibility.ts";
import { STAGE_POOLS } from "../../matching/domain/policy.ts";
import type { LicenceKind, OfferKind, OfferOutcome, Pool } from "../../matching/domain/types.ts";
import { connectionsOf } from "../connections/connections.ts";
import { listMessages, toMessageView, type MessageView } from "../messages/store.ts";
import { funnelStages, type FirstPoolSource, type StagePool } from "./funnelStages.ts";

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const isoMs = (ms: number) => new Date(ms).toISOString();

export interface RecordedRequest {
  id: string;
  clientId: string;
  branchId: string;
  topic: string;
  requiredLicence: LicenceKind;
  channel: string;
  mode: string;
  language: string | null;
  priority: number;
  /** As recorded at creation: what suitability and the region stage were decided on. */
  riskLevel: number;
  region: string;
  status: string;
  /** Where the request is now; null in the queue. */
  stage: StagePool | null;
  stageIndex: number;
  callbackRequested: boolean;
  createdAt: string;
  offeredAt: string | null;
  assignedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  expiredAt: string | null;
}

export interface RecordedStage {
  stageIndex: number;
  pool: StagePool;
  startedAt: string;
  source: FirstPoolSource | "event";
}

/** EligibilitySnapshot with its instants as ISO strings, like every other instant of the API. */
export interface RecordedEligibility extends Omit<EligibilitySnapshot, "checkedAt" | "licence"> {
  checkedAt: string;
  licence: Omit<EligibilitySnapshot["licence"], "validFrom" | "validUntil"> & { validFrom: string; validUntil: string };
}

export interface RecordedOffer {
  id: string;
  advisor: { id: string; name: string };
  kind: OfferKind;
  /** The pool the offer was made in (a queue offer: the pool the queue reached, the funnel's widest). */
  stage: Pool;
  stageIndex: number;
  sentAt: string;
  expiresAt: string;
  outcome: OfferOutcome | null;
  respondedAt: string | null;
  eligibility: RecordedEligibility;
}

export interface RecordedDecision {
  at: string;
  stage: StagePool;
  offered: string[];
  /** Advisor ids the rules refused at this step, by rule (EXCLUDED, PRESENCE, LICENCE, ...). */
  excluded: Partial<Record<IneligibleReason, string[]>>;
}

export interface DecisionRecord {
  request: RecordedRequest;
  stages: RecordedStage[];
  offers: RecordedOffer[];
  decisions: RecordedDecision[];
  assignment: { advisor: { id: string; name: string }; assignedAt: string | null; offerId: string | null } | null;
  connections: Array<{ id: string; advisorId: string; openedAt: string; closedAt: string | null; closeReason: string | null }>;
  messages: MessageView[];
  rating: { id: string; stars: number; comment: string | null; ratedAt: string } | null;
}

const StagePoolSchema = z.enum(STAGE_POOLS);
/** The parts of the logged DomainEvents (matching/events.ts) the record reads; a row that does not parse fails loudly. */
const StageChangedData = z.object({ stage: StagePoolSchema, stageIndex: z.number().int() });
const DecidedData = z.object({
  stage: StagePoolSchema,
  offered: z.array(z.string()),
  excluded: z.partialRecord(z.enum(INELIGIBLE_REASONS), z.array(z.string())),
});

/** A request taken back from an advisor who left restarts at stage 0: a stage change too. */
const STAGE_EVENT_TYPES = ["request.stage_changed", "request.redispatched"];
const RECORDED_EVENT_TYPES = [...STAGE_EVENT_TYPES, "request.decided"];

function toRecordedEligibility(stored: unknown): RecordedEligibility {
  const snapshot = stored as EligibilitySnapshot;
  const { validFrom, validUntil, ...licence } = snapshot.licence;
  return { ...snapshot, checkedAt: isoMs(snapshot.checkedAt), licence: { ...licence, validFrom: isoMs(validFrom), validUntil: isoMs(validUntil) } };
}

/** The request's branch, for authorization before the whole record is read; null when there is no such request. */
export async function requestBranchOf(prisma: PrismaClient, requestId: string): Promise<string | null> {
  const row = await prisma.serviceRequest.findUnique({ where: { id: requestId }, select: { branchId: true } });
  return row?.branchId ?? null;
}

/** The record's request section: the row's facts and its lifecycle times. */
function requestSection(row: Prisma.ServiceRequestGetPayload<object>): DecisionRecord["request"] {
  return {
    id: row.id,
    clientId: row.clientId,
    branchId: row.branchId,
    topic: row.topic,
    requiredLicence: row.requiredLicence,
    channel: row.channel,
    mode: row.mode,
    language: row.language,
    priority: row.priority,
    riskLevel: row.riskLevel,
    region: row.region,
    status: row.status,
    stage: row.stage,
    stageIndex: row.stageIndex,
    callbackRequested: row.callbackRequested,
    createdAt: row.createdAt.toISOString(),
    offeredAt: iso(row.offeredAt),
    assignedAt: iso(row.assignedAt),
    completedAt: iso(row.completedAt),
    cancelledAt: iso(row.cancelledAt),
    expiredAt: iso(row.expiredAt),
  };
}

export async function loadDecisionRecord(prisma: PrismaClient, requestId: string): Promise<DecisionRecord | null> {
  const row = await prisma.serviceRequest.findUnique({
    where: { id: requestId },
    include: {
      // Ids are time-ordered, so they break ties between the offers of one broadcast.
      offers: { orderBy: [{ sentAt: "asc" }, { id: "asc" }], include: { advisor: { select: { id: true, name: true } } } },
      assignedAdvisor: { select: { id: true, name: true } },
      rating: true,
    },
  });
  if (!row) return null;

  const [events, connections, messages] = await Promise.all([
    prisma.eventLog.findMany({
      where: { requestId, type: { in: RECORDED_EVENT_TYPES } },
      orderBy: { seq: "asc" },
      select: { type: true, at: true, data: true },
    }),
    connectionsOf(prisma, requestId),
    listMessages(prisma, requestId),
  ]);

  const stageChanges = events.filter((e) => STAGE_EVENT_TYPES.includes(e.type)).map((e) => ({ ...StageChangedData.parse(e.data), at: e.at }));
  const firstOffer = row.offers.find((o) => o.stageIndex === 0);
  const stages = await funnelStages(
    {
      createdAt: row.createdAt,
      currentStage: row.stage,
      firstOfferPool: firstOffer?.stage ?? null,
      currentPolicyFirstPool: async () => (await getBranchPolicy(prisma, row.branchId))!.policy.stages[0]!.pool,
    },
    stageChanges,
  );

  const acceptedOffer = row.offers.find((o) => o.outcome === "accepted" && o.advisorId === row.assignedAdvisorId);

  return {
    request: requestSection(row),
    stages: stages.map((s) => ({ ...s, startedAt: s.startedAt.toISOString() })),
    offers: row.offers.map((o) => ({
      id: o.id,
      advisor: o.advisor,
      kind: o.kind,
      stage: o.stage,
      stageIndex: o.stageIndex,
      sentAt: o.sentAt.toISOString(),
      expiresAt: o.expiresAt.toISOString(),
      outcome: o.outcome,
      respondedAt: iso(o.respondedAt),
      eligibility: toRecordedEligibility(o.eligibility),
    })),
    decisions: events.filter((e) => e.type === "request.decided").map((e) => ({ at: e.at.toISOString(), ...DecidedData.parse(e.data) })),
    assignment: row.assignedAdvisor ? { advisor: row.assignedAdvisor, assignedAt: iso(row.assignedAt), offerId: acceptedOffer?.id ?? null } : null,
    connections: connections.map((c) => ({
      id: c.id,
      advisorId: c.advisorId,
      openedAt: c.openedAt.toISOString(),
      closedAt: iso(c.closedAt),
      closeReason: c.closeReason,
    })),
    messages: messages.map(toMessageView),
    rating: row.rating ? { id: row.rating.id, stars: row.rating.stars, comment: row.rating.comment, ratedAt: row.rating.createdAt.toISOString() } : null,
  };
}

/**
 * MatchingRecords on Prisma (PostgreSQL or embedded PGlite). The only matching file that knows
 * Prisma; the engine sees the port.
 */
import { isUniqueViolation } from "../../platform/databaseErrors.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Database } from "../../platform/database.ts";
import type { SqlRunner } from "../../platform/sql.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { DEFAULT_DISPATCH_POLICY, DispatchPolicySchema, type DispatchPolicy } from "../domain/policy.ts";
import { EMPTY_STATS, updateResponsiveness } from "../domain/ranking.ts";
import type { AdvisorProfile, AdvisorStats, LicenceKind, RequestFacts } from "../domain/types.ts";
import type { AdvisorState, LiveRequest, OfferState } from "../store/port.ts";
import type { DomainEvent } from "../events.ts";
import { failpoint } from "../../core/failpoints.ts";
import { applyJournal } from "./applyJournal.ts";
import type { ClientContext, InsertRequestResult, MatchingRecords, NewRequestRecord, RecordedDecision } from "./port.ts";

// The statements on every request's path, sent without Prisma (platform/sql.ts).

/** A client's context for a new request: one joined statement. */
const CLIENT_CONTEXT = `
  SELECT c.id AS "clientId", c."branchId", b.region, c."riskLevel", c.language, c."dedicatedAdvisorId"
  FROM "Client" c JOIN "Branch" b ON b.id = c."branchId"
  WHERE c.id = $1`;

/** Requests waiting for an advisor with the licence in the branch (queue depth, surge). */
const WAITING_COUNT = `
  SELECT count(*)::int AS waiting FROM "ServiceRequest"
  WHERE "branchId" = $1 AND "requiredLicence" = $2::"LicenceKind" AND status IN ('pending', 'offered')`;

/**
 * The request row and its creation events, atomically, in one statement. A key this client used
 * before inserts nothing (id null), and the caller reads the existing request instead.
 */
const INSERT_REQUEST = `
  WITH created AS (
    INSERT INTO "ServiceRequest" (id, "clientId", "branchId", region, "riskLevel", topic, "requiredLicence", channel, mode, language,
      priority, "stageIndex", stage, "stageStartedAt", status, "idempotencyKey", "requestHash", "createdAt")
    VALUES ($1, $2, $3, $4, $5, $6, $7::"LicenceKind", $8::"Channel", $9::"RequestMode", $10,
      $11, $12, $13::"FunnelPool", $14::timestamp(3), 'pending', $15, $16, $14::timestamp(3))
    ON CONFLICT ("clientId", "idempotencyKey") DO NOTHING
    RETURNING id
  ),
  logged AS (
    INSERT INTO "EventLog" (id, type, at, "requestId", "branchId", data)
    SELECT e.v->>'id', e.v->>'type', (e.v->>'at')::timestamp(3), e.v->>'requestId', e.v->>'branchId', e.v->'data'
    FROM jsonb_array_elements($17::jsonb) WITH ORDINALITY AS e(v, n)
    WHERE EXISTS (SELECT 1 FROM created)
    ORDER BY e.n
    ON CONFLICT (id) DO NOTHING
  )
  SELECT (SELECT id FROM created) AS id`;

const LIVE_STATUSES = ["pending", "offered", "assigned"] as const;
/** How far back answered offers are replayed to rebuild the responsiveness EWMAs. */
const RESPONSIVENESS_WINDOW_MS = 30 * 86_400_000;

type AdvisorWithLicences = Prisma.AdvisorGetPayload<{ include: { licences: true; branch: { select: { region: true } } } }>;

function toProfile(a: AdvisorWithLicences): AdvisorProfile {
  return {
    id: a.id,
    branchId: a.branchId,
    region: a.branch.region,
    status: a.status,
    maxConcurrent: a.maxConcurrent,
    languages: a.languages,
    suitabilityMaxRisk: a.suitabilityMaxRisk,
    licences: a.licences.map((l) => ({
      id: l.id,
      kind: l.kind,
      number: l.number,
      issuer: l.issuer,
      validFrom: l.validFrom.getTime(),
      validUntil: l.validUntil.getTime(),
      status: l.status,
    })),
  };
}

/** The event log rows for events (skipping ids already logged, so a replay appends nothing). */
function appendEvents(prisma: PrismaClient, events: DomainEvent[]) {
  return prisma.eventLog.createMany({
    data: events.map((event) => ({
      id: event.id,
      type: event.type,
      at: new Date(event.at),
      requestId: event.requestId,
      branchId: event.branchId,
      advisorId: "advisorId" in event ? event.advisorId : null,
      data: event as unknown as Prisma.InputJsonValue,
    })),
    skipDuplicates: true,
  });
}

type RequestWithOffers = Prisma.ServiceRequestGetPayload<{ include: { offers: true; client: { select: { dedicatedAdvisorId: true } } } }>;

const WITH_OFFERS = { offers: { orderBy: { sentAt: "asc" as const } }, client: { select: { dedicatedAdvisorId: true } } };

/** A request as the record has it, in the live store's shape (queueScore is the engine's to set). */
function toLiveRequest(row: RequestWithOffers, now: number): LiveRequest {
  const offers: OfferState[] = row.offers.map((o) => ({
    id: o.id,
    requestId: o.requestId,
    advisorId: o.advisorId,
    kind: o.kind,
    stageIndex: o.stageIndex,
    sentAt: o.sentAt.getTime(),
    expiresAt: o.expiresAt.getTime(),
    outcome: o.outcome,
    respondedAt: o.respondedAt?.getTime() ?? null,
  }));
  const facts: RequestFacts = {
    id: row.id,
    clientId: row.clientId,
    branchId: row.branchId,
    region: row.region,
    requiredLicence: row.requiredLicence as LicenceKind,
    riskLevel: row.riskLevel,
    language: row.language,
    priority: row.priority,
    dedicatedAdvisorId: row.client.dedicatedAdvisorId,
    mode: row.mode,
    createdAt: row.createdAt.getTime(),
  };
  return {
    facts,
    status: row.status,
    stageIndex: row.stageIndex,
    stageStartedAt: (row.stageStartedAt ?? row.createdAt).getTime(),
    // Offers of this stage since it (last) started: a request put back in the funnel keeps the
    // offers of its earlier pass through the same stage index.
    offersInStage: offers.filter((o) => o.stageIndex === row.stageIndex && o.sentAt >= (row.stageStartedAt ?? row.createdAt).getTime()).length,
    assignedAdvisorId: row.assignedAdvisorId,
    excluded: [...new Set(offers.filter((o) => o.outcome === "declined" || o.outcome === "timed_out").map((o) => o.advisorId))],
    offers,
    queueScore: null, // the engine knows the funnel and sets this
    callbackRequested: row.callbackRequested,
    updatedAt: now,
    // The live store continues from the revision the record last applied (restore bumps it).
    rev: row.liveRev,
  };
}

/** What the engine reads to decide: a client's context, a branch's policy, an advisor's profile, an offer's request, a request's summary, the waiting count. */
function readRecords(
  prisma: PrismaClient,
  sql: SqlRunner,
): Pick<MatchingRecords, "clientContext" | "policyFor" | "advisorProfile" | "offerRequestId" | "requestSummary" | "waitingCount"> {
  return {
    async clientContext(clientId: string): Promise<ClientContext | null> {
      // One joined statement: this is on the path of every request creation.
      const [client] = await sql.query<ClientContext>(CLIENT_CONTEXT, [clientId]);
      return client ?? null;
    },
    async policyFor(branchId: string): Promise<DispatchPolicy> {
      const row = await prisma.dispatchPolicy.findUnique({ where: { branchId } });
      if (!row) return DEFAULT_DISPATCH_POLICY;
      // Policies are validated on write; a row that no longer parses (an older schema) must not
      // silently change matching, so it fails loudly here.
      return DispatchPolicySchema.parse(row.policy);
    },
    async advisorProfile(advisorId: string): Promise<AdvisorProfile | null> {
      const advisor = await prisma.advisor.findUnique({ where: { id: advisorId }, include: { licences: true, branch: { select: { region: true } } } });
      return advisor ? toProfile(advisor) : null;
    },
    async offerRequestId(offerId: string): Promise<string | null> {
      const offer = await prisma.offer.findUnique({ where: { id: offerId }, select: { requestId: true } });
      return offer?.requestId ?? null;
    },
    async requestSummary(requestId) {
      return prisma.serviceRequest.findUnique({
        where: { id: requestId },
        select: { id: true, clientId: true, branchId: true, status: true, requiredLicence: true, assignedAdvisorId: true },
      });
    },
    async waitingCount(branchId, licence) {
      const [row] = await sql.query<{ waiting: number }>(WAITING_COUNT, [branchId, licence]);
      return row?.waiting ?? 0;
    },
  };
}

/** What the engine writes: a new request with its events, the journal's decisions, a rating. */
function writeRecords(prisma: PrismaClient, sql: SqlRunner): Pick<MatchingRecords, "insertRequest" | "applyJournal" | "insertRating"> {
  return {
    async insertRequest(record: NewRequestRecord, events: DomainEvent[]): Promise<InsertRequestResult> {
      const { facts } = record;
      const at = new Date(facts.createdAt).toISOString();
      const logged = JSON.stringify(
        events.map((e) => ({ id: e.id, type: e.type, at: new Date(e.at).toISOString(), requestId: e.requestId, branchId: e.branchId, data: e })),
      );
      // One statement (the row and its creation events, atomically): this is on every request's path.
      // A key this client used before inserts nothing, and the existing request is read instead.
      const [row] = await sql.query<{ id: string | null }>(INSERT_REQUEST, [
        facts.id,
        facts.clientId,
        facts.branchId,
        facts.region,
        facts.riskLevel,
        record.topic,
        facts.requiredLicence,
        record.channel,
        facts.mode,
        facts.language,
        facts.priority,
        record.stageIndex,
        record.stage,
        at,
        record.idempotencyKey,
        record.requestHash,
        logged,
      ]);
      if (row?.id) return { created: true, requestId: facts.id };
      const existing = await prisma.serviceRequest.findUniqueOrThrow({
        where: { clientId_idempotencyKey: { clientId: facts.clientId, idempotencyKey: record.idempotencyKey! } },
        select: { id: true, requestHash: true },
      });
      return { created: false, requestId: existing.id, sameBody: existing.requestHash === record.requestHash };
    },
    async applyJournal(decisions: RecordedDecision[]): Promise<void> {
      failpoint("records.apply");
      await applyJournal(sql, decisions);
    },
    async insertRating(rating, events) {
      try {
        await prisma.$transaction([
          prisma.rating.create({
            data: {
              id: rating.id,
              requestId: rating.requestId,
              advisorId: rating.advisorId,
              clientId: rating.clientId,
              stars: rating.stars,
              comment: rating.comment,
              createdAt: new Date(rating.at),
            },
          }),
          appendEvents(prisma, events),
        ]);
        return { ok: true };
      } catch (error) {
        if (isUniqueViolation(error)) return { ok: false, reason: "ALREADY_RATED" };
        throw error;
      }
    },
  };
}

/** What the reconciler and a rebuild read: ids, live requests, recorded revisions, the whole snapshot. */
function rebuildRecords(
  prisma: PrismaClient,
): Pick<MatchingRecords, "advisorIds" | "liveRequests" | "liveRequestIds" | "recordedRevisions" | "rebuildSnapshot"> {
  return {
    async advisorIds() {
      const rows = await prisma.advisor.findMany({ where: { status: { not: "offboarded" } }, select: { id: true } });
      return rows.map((r) => r.id);
    },
    async liveRequests(requestIds, now) {
      if (!requestIds.length) return [];
      const rows = await prisma.serviceRequest.findMany({ where: { id: { in: requestIds }, status: { in: [...LIVE_STATUSES] } }, include: WITH_OFFERS });
      return rows.map((row) => toLiveRequest(row, now));
    },
    async liveRequestIds() {
      const rows = await prisma.serviceRequest.findMany({ where: { status: { in: [...LIVE_STATUSES] } }, select: { id: true } });
      return rows.map((r) => r.id);
    },
    async recordedRevisions(requestIds) {
      const rows = requestIds.length
        ? await prisma.serviceRequest.findMany({
            where: { id: { in: requestIds } },
            select: { id: true, liveRev: true, status: true, offers: { select: { id: true, outcome: true } } },
          })
        : [];
      return new Map(
        rows.map((r) => [r.id, { liveRev: r.liveRev, status: r.status, offers: new Map(r.offers.map((o) => [o.id, o.outcome as string | null])) }]),
      );
    },
    async rebuildSnapshot(now: number) {
      const [advisorRows, requestRows, ratings, lastAssigned, answers] = await Promise.all([
        prisma.advisor.findMany({ where: { status: { not: "offboarded" } }, include: { licences: true, branch: { select: { region: true } } } }),
        prisma.serviceRequest.findMany({ where: { status: { in: [...LIVE_STATUSES] } }, include: WITH_OFFERS }),
        prisma.rating.groupBy({ by: ["advisorId"], _sum: { stars: true }, _count: { _all: true } }),
        prisma.serviceRequest.groupBy({ by: ["assignedAdvisorId"], where: { assignedAdvisorId: { not: null } }, _max: { assignedAt: true } }),
        prisma.offer.findMany({
          where: { outcome: { in: ["accepted", "declined", "timed_out"] }, respondedAt: { gte: new Date(now - RESPONSIVENESS_WINDOW_MS) } },
          select: { advisorId: true, outcome: true, sentAt: true, respondedAt: true },
          orderBy: { respondedAt: "asc" },
        }),
      ]);

      const stats = new Map<string, AdvisorStats>();
      const statsOf = (id: string) => stats.get(id) ?? { ...EMPTY_STATS };
      for (const r of ratings) stats.set(r.advisorId, { ...statsOf(r.advisorId), ratingSum: r._sum.stars ?? 0, ratingCount: r._count._all });
      for (const r of lastAssigned) {
        if (r.assignedAdvisorId && r._max.assignedAt)
          stats.set(r.assignedAdvisorId, { ...statsOf(r.assignedAdvisorId), lastAssignedAt: r._max.assignedAt.getTime() });
      }
      for (const a of answers) {
        const answer =
          a.outcome === "accepted" ? { accepted: true as const, latencyMs: a.respondedAt!.getTime() - a.sentAt.getTime() } : { accepted: false as const };
        stats.set(a.advisorId, updateResponsiveness(statsOf(a.advisorId), answer));
      }

      const requests: LiveRequest[] = requestRows.map((row) => toLiveRequest(row, now));

      const assignments = new Map<string, string[]>();
      const pushHolds = new Map<string, string[]>();
      for (const r of requests) {
        if (r.status === "assigned" && r.assignedAdvisorId) assignments.set(r.assignedAdvisorId, [...(assignments.get(r.assignedAdvisorId) ?? []), r.facts.id]);
        for (const o of r.offers) if (o.kind === "push" && o.outcome === null) pushHolds.set(o.advisorId, [...(pushHolds.get(o.advisorId) ?? []), o.id]);
      }

      const advisors: AdvisorState[] = advisorRows.map((row) => {
        const held = assignments.get(row.id) ?? [];
        const holds = pushHolds.get(row.id) ?? [];
        return {
          profile: toProfile(row),
          // Presence is not durable: advisors reappear with their next heartbeat.
          supply: { presence: "offline", heartbeatAt: 0, active: held.length, pendingPush: holds.length },
          stats: statsOf(row.id),
          assignments: held,
          pushHolds: holds,
        };
      });
      return { advisors, requests };
    },
  };
}

/** On a database's Prisma client, with its plain statements (`sql`) for the few on every request's path. */
export function createPrismaMatchingRecords({ prisma, sql }: Pick<Database, "prisma" | "sql">): MatchingRecords {
  return { ...readRecords(prisma, sql), ...writeRecords(prisma, sql), ...rebuildRecords(prisma) };
}

/**
 * Offboarding: the firm, not the advisor, owns the client connection, so when an advisor leaves the
 * firm takes their clients and open work back.
 *
 * Two phases. The directory phase is one PostgreSQL transaction, and it is the commit point: the
 * advisor is marked offboarded (a conditional update, so two concurrent calls cannot both do it),
 * their open connections close with reason advisor_offboarded, they stop being anyone's dedicated
 * advisor, and each of those steps is recorded as an audit action in the same transaction. The live
 * phase then makes it effective in the matching engine: the live profile reloads (offboarded is
 * ineligible for everything at once), presence drops, pending offers are withdrawn, and assigned but
 * uncompleted requests go back through the funnel without them; the engine records each of those as
 * events (offer.withdrawn with the reason, request.redispatched).
 *
 * The live phase is idempotent and runs again on a repeat call, so a crash between the phases is
 * finished by calling offboard again, or by the offboarding sweep job (app/jobs/offboarding.ts),
 * which runs it for every offboarded advisor still holding offers or assignments.
 */
import type { Clock } from "../../core/clock.ts";
import { requestIdOfOffer } from "../../core/ids.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { MatchingEngine } from "../../matching/engine/engine.ts";
import { recordActions, type RecordedAction } from "../audit/actions.ts";

export const OFFBOARDED_REASON = "advisor_offboarded";

export interface OffboardDeps {
  prisma: PrismaClient;
  engine: Pick<MatchingEngine, "syncAdvisor" | "setPresence" | "withdrawOffer" | "redispatch">;
  clock: Clock;
  /** Closes the advisor's open sockets on every process (best effort: their token is refused anyway). */
  revokeSessions?: (advisorId: string) => Promise<void>;
}

export interface OffboardReport {
  advisorId: string;
  branchId: string;
  offboardedAt: string;
  /** False when the advisor was already offboarded: only unfinished live steps ran again. */
  changed: boolean;
  connectionsClosed: string[];
  dedicationsCleared: string[];
  offersWithdrawn: string[];
  requestsRedispatched: string[];
}

export type OffboardOutcome = { ok: true; report: OffboardReport } | { ok: false; reason: "NOT_FOUND" };

interface DirectoryPhase {
  branchId: string;
  offboardedAt: Date;
  changed: boolean;
  connectionsClosed: string[];
  dedicationsCleared: string[];
}

export async function offboardAdvisor(deps: OffboardDeps, input: { advisorId: string; actor: string; reason: string | null }): Promise<OffboardOutcome> {
  const directory = await offboardInDirectory(deps.prisma, input, new Date(deps.clock.now()));
  if (!directory) return { ok: false, reason: "NOT_FOUND" };
  const live = await finishOffboarding(deps, input.advisorId);
  await deps.revokeSessions?.(input.advisorId);
  return {
    ok: true,
    report: {
      advisorId: input.advisorId,
      branchId: directory.branchId,
      offboardedAt: directory.offboardedAt.toISOString(),
      changed: directory.changed,
      connectionsClosed: directory.connectionsClosed,
      dedicationsCleared: directory.dedicationsCleared,
      ...live,
    },
  };
}

async function offboardInDirectory(
  prisma: PrismaClient,
  input: { advisorId: string; actor: string; reason: string | null },
  at: Date,
): Promise<DirectoryPhase | null> {
  return prisma.$transaction(async (tx) => {
    const marked = await tx.$queryRaw<Array<{ branchId: string }>>`
      UPDATE "Advisor" SET status = 'offboarded', "offboardedAt" = ${at}
      WHERE id = ${input.advisorId} AND status <> 'offboarded'
      RETURNING "branchId"`;
    if (!marked.length) {
      const existing = await tx.advisor.findUnique({ where: { id: input.advisorId }, select: { branchId: true, offboardedAt: true } });
      if (!existing) return null;
      return { branchId: existing.branchId, offboardedAt: existing.offboardedAt ?? at, changed: false, connectionsClosed: [], dedicationsCleared: [] };
    }
    const branchId = marked[0]!.branchId;
    const connections = await tx.$queryRaw<Array<{ id: string; requestId: string; clientId: string }>>`
      UPDATE "Connection" SET "closedAt" = ${at}, "closeReason" = ${OFFBOARDED_REASON}
      WHERE "advisorId" = ${input.advisorId} AND "closedAt" IS NULL
      RETURNING id, "requestId", "clientId"`;
    const clients = await tx.$queryRaw<Array<{ id: string }>>`
      UPDATE "Client" SET "dedicatedAdvisorId" = NULL WHERE "dedicatedAdvisorId" = ${input.advisorId} RETURNING id`;
    const base = { actor: input.actor, at, branchId, advisorId: input.advisorId };
    const actions: RecordedAction[] = [
      {
        ...base,
        type: "advisor.offboarded",
        data: { advisorId: input.advisorId, reason: input.reason, connections: connections.length, dedicatedClients: clients.length },
      },
      ...connections.map((c) => ({
        ...base,
        type: "connection.closed",
        requestId: c.requestId,
        data: { connectionId: c.id, clientId: c.clientId, advisorId: input.advisorId, reason: OFFBOARDED_REASON },
      })),
      ...clients.map((c) => ({
        ...base,
        type: "client.dedication_cleared",
        data: { clientId: c.id, advisorId: input.advisorId, reason: OFFBOARDED_REASON, servedBy: "branch pool" },
      })),
      // Presence is live state, not a row: recorded here, dropped by the live phase right after commit.
      { ...base, type: "advisor.presence_dropped", data: { advisorId: input.advisorId, reason: OFFBOARDED_REASON } },
    ];
    await recordActions(tx, actions);
    return { branchId, offboardedAt: at, changed: true, connectionsClosed: connections.map((c) => c.id), dedicationsCleared: clients.map((c) => c.id).sort() };
  });
}

/**
 * The live phase, for an advisor PostgreSQL already records as offboarded. Safe to run any number
 * of times: an offer already closed and a request no longer theirs are left alone.
 */
export async function finishOffboarding(deps: OffboardDeps, advisorId: string): Promise<{ offersWithdrawn: string[]; requestsRedispatched: string[] }> {
  // Reload first: from here on every eligibility check (new offers, accepts) sees them offboarded.
  // The live state also says what they hold right now, which the record may not show yet (a
  // decision's journal entry can still be on its way), so both are consulted.
  const live = await deps.engine.syncAdvisor(advisorId);
  await deps.engine.setPresence(advisorId, "offline");
  const recordedOffers = await deps.prisma.offer.findMany({
    where: { advisorId, outcome: null, request: { status: { in: ["pending", "offered"] } } },
    select: { id: true, requestId: true },
    orderBy: { sentAt: "asc" },
  });
  const heldOffers = (live?.pushHolds ?? []).flatMap((id) => {
    const requestId = requestIdOfOffer(id);
    return requestId ? [{ id, requestId }] : [];
  });
  const offersWithdrawn: string[] = [];
  for (const offer of uniqueBy([...recordedOffers, ...heldOffers], (o) => o.id)) {
    if (await deps.engine.withdrawOffer(offer.id, OFFBOARDED_REASON, offer.requestId)) offersWithdrawn.push(offer.id);
  }
  const recordedAssignments = await deps.prisma.serviceRequest.findMany({
    where: { assignedAdvisorId: advisorId, status: "assigned" },
    select: { id: true },
    orderBy: { assignedAt: "asc" },
  });
  const requestsRedispatched: string[] = [];
  for (const requestId of uniqueBy([...recordedAssignments.map((r) => r.id), ...(live?.assignments ?? [])], (id) => id)) {
    if ((await deps.engine.redispatch(requestId, advisorId, OFFBOARDED_REASON)).ok) requestsRedispatched.push(requestId);
  }
  return { offersWithdrawn, requestsRedispatched };
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)));
}

/** Offboarded advisors who still hold an open offer or an assigned request (the sweep's work list). */
export async function unfinishedOffboardings(prisma: PrismaClient, limit: number): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT a.id FROM "Advisor" a
    WHERE a.status = 'offboarded' AND (
      EXISTS (SELECT 1 FROM "ServiceRequest" r WHERE r."assignedAdvisorId" = a.id AND r.status = 'assigned')
      OR EXISTS (SELECT 1 FROM "Offer" o JOIN "ServiceRequest" r ON r.id = o."requestId"
                 WHERE o."advisorId" = a.id AND o.outcome IS NULL AND o."expiresAt" > now() AND r.status IN ('pending', 'offered')))
    ORDER BY a.id
    LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

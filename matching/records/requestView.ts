/**
 * What a client (and the realtime channel) sees of a request: status, stage, the assigned advisor
 * with the licence that made them eligible and their rating by clients, and a timeline built from
 * the recorded rows.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";

export interface RequestView {
  id: string;
  clientId: string;
  branchId: string;
  status: string;
  mode: string;
  stage: string;
  topic: string;
  requiredLicence: string;
  channel: string;
  createdAt: string;
  assignedAt?: string;
  callbackRequested: boolean;
  advisor?: {
    id: string;
    name: string;
    licence: { kind: string; number: string; validUntil: string };
    /** Every rating the advisor has been given (any request, any client): mean stars to one decimal, null when none. */
    rating: AdvisorRating;
  };
  timeline: Array<{ at: string; event: string }>;
  /** The live store's revision the row reflects (ServiceRequest.liveRev); internal, not shown to callers. */
  liveRev: number;
}

export interface AdvisorRating {
  average: number | null;
  count: number;
}

interface ViewRow {
  id: string;
  clientId: string;
  branchId: string;
  status: string;
  mode: string;
  stage: string | null;
  topic: string;
  requiredLicence: string;
  channel: string;
  callbackRequested: boolean;
  liveRev: number;
  createdAt: Date;
  assignedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  expiredAt: Date | null;
  offers: Array<{ sentAt: string; respondedAt: string | null; outcome: string | null; eligibility: unknown; advisorId: string }> | null;
  assignedAdvisor: { id: string; name: string; licences: Array<{ kind: string; number: string; validUntil: string }>; rating: AdvisorRating } | null;
}

/** json_build_object renders timestamp(3) without its zone; every stored instant is UTC. */
const utc = (value: string) => new Date(`${value}Z`);

export async function loadRequestView(prisma: PrismaClient, requestId: string): Promise<RequestView | null> {
  // One statement: this runs after every client-visible transition, and on every client poll. The
  // assigned advisor's ratings are found by the Rating (advisorId, createdAt) index.
  const [found] = await prisma.$queryRaw<ViewRow[]>`
    SELECT r.id, r."clientId", r."branchId", r.status::text AS status, r.mode::text AS mode, r.stage::text AS stage, r.topic,
           r."requiredLicence"::text AS "requiredLicence", r.channel::text AS channel, r."callbackRequested", r."liveRev",
           r."createdAt", r."assignedAt", r."completedAt", r."cancelledAt", r."expiredAt",
           (SELECT json_agg(json_build_object('sentAt', o."sentAt", 'respondedAt', o."respondedAt", 'outcome', o.outcome, 'eligibility', o.eligibility, 'advisorId', o."advisorId") ORDER BY o."sentAt")
              FROM "Offer" o WHERE o."requestId" = r.id) AS offers,
           CASE WHEN a.id IS NULL THEN NULL ELSE json_build_object('id', a.id, 'name', a.name, 'licences',
             (SELECT coalesce(json_agg(json_build_object('kind', l.kind, 'number', l.number, 'validUntil', l."validUntil")), '[]'::json) FROM "Licence" l WHERE l."advisorId" = a.id),
             'rating', (SELECT json_build_object('average', round(avg(rt.stars), 1), 'count', count(*)) FROM "Rating" rt WHERE rt."advisorId" = a.id)) END AS "assignedAdvisor"
    FROM "ServiceRequest" r LEFT JOIN "Advisor" a ON a.id = r."assignedAdvisorId"
    WHERE r.id = ${requestId}`;
  if (!found) return null;
  const row = {
    ...found,
    offers: (found.offers ?? []).map((o) => ({ ...o, sentAt: utc(o.sentAt), respondedAt: o.respondedAt ? utc(o.respondedAt) : null })),
    assignedAdvisor: found.assignedAdvisor && {
      ...found.assignedAdvisor,
      licences: found.assignedAdvisor.licences.map((l) => ({ ...l, validUntil: utc(l.validUntil) })),
    },
  };

  const timeline: Array<{ at: Date; event: string }> = [{ at: row.createdAt, event: "request.created" }];
  for (const offer of row.offers) {
    timeline.push({ at: offer.sentAt, event: "offer.sent" });
    if (offer.outcome && offer.respondedAt) timeline.push({ at: offer.respondedAt, event: `offer.${offer.outcome}` });
  }
  if (row.assignedAt) timeline.push({ at: row.assignedAt, event: "request.assigned" });
  if (row.completedAt) timeline.push({ at: row.completedAt, event: "request.completed" });
  if (row.cancelledAt) timeline.push({ at: row.cancelledAt, event: "request.cancelled" });
  if (row.expiredAt) timeline.push({ at: row.expiredAt, event: "request.expired" });
  timeline.sort((a, b) => a.at.getTime() - b.at.getTime());

  // The licence shown is the one recorded as making the advisor eligible when offered, so it says
  // why they were matched even if the directory changed since.
  let advisor: RequestView["advisor"];
  if (row.assignedAdvisor) {
    const accepted = row.offers.find((o) => o.outcome === "accepted" && o.advisorId === row.assignedAdvisor!.id);
    const snapshot = (accepted?.eligibility as { licence?: { kind: string; number: string; validUntil: number } } | null)?.licence;
    const current = row.assignedAdvisor.licences.find((l) => l.kind === row.requiredLicence);
    const licence = snapshot
      ? { kind: snapshot.kind, number: snapshot.number, validUntil: new Date(snapshot.validUntil).toISOString() }
      : current
        ? { kind: current.kind, number: current.number, validUntil: current.validUntil.toISOString() }
        : { kind: row.requiredLicence, number: "unknown", validUntil: new Date(0).toISOString() };
    // round() gives numeric, which json renders as a number (4.5, or 4 for 4.0).
    const { average, count } = row.assignedAdvisor.rating;
    advisor = { id: row.assignedAdvisor.id, name: row.assignedAdvisor.name, licence, rating: { average: average === null ? null : Number(average), count } };
  }

  return {
    id: row.id,
    clientId: row.clientId,
    branchId: row.branchId,
    status: row.status,
    mode: row.mode,
    stage: row.stage ?? "queue",
    topic: row.topic,
    requiredLicence: row.requiredLicence,
    channel: row.channel,
    createdAt: row.createdAt.toISOString(),
    ...(row.assignedAt ? { assignedAt: row.assignedAt.toISOString() } : {}),
    callbackRequested: row.callbackRequested,
    ...(advisor ? { advisor } : {}),
    timeline: timeline.map((t) => ({ at: t.at.toISOString(), event: t.event })),
    liveRev: row.liveRev,
  };
}

/**
 * The view as fresh as the live store: read your writes. When the record trails the request's
 * latest decision (its journal entry is still on the way, e.g. during a database outage or under
 * overload), wait up to `waitMs` for it; if it is still behind, show the live status and callback
 * flag over the recorded view, so nobody sees an older state than the answer they were just given.
 */
export async function loadFreshRequestView(
  prisma: PrismaClient,
  live: { getRequest(id: string): Promise<{ rev: number; status: string; callbackRequested: boolean } | null> },
  requestId: string,
  options: { waitMs?: number; pollMs?: number } = {},
): Promise<RequestView | null> {
  const [view, current] = await Promise.all([loadRequestView(prisma, requestId), live.getRequest(requestId)]);
  if (!view || !current || current.rev <= view.liveRev) return view;
  const deadline = Date.now() + (options.waitMs ?? 1_000);
  let latest = view;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
    latest = (await loadRequestView(prisma, requestId)) ?? latest;
    if (latest.liveRev >= current.rev) return latest;
  }
  return { ...latest, status: current.status, callbackRequested: current.callbackRequested };
}

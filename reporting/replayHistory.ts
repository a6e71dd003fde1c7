/**
 * What the policy what-if replays, read from a branch's record (POST
 * /v1/branches/:id/dispatch-policy/simulate; the replay itself is simulation/replay.ts):
 *
 * - the requests created in the window, with the facts matching decided on (licence, the risk level
 *   and region stored on the request, language, the client's dedicated advisor) and, for a client
 *   who cancelled before an advisor took the request, how long they waited (their patience);
 * - the branch's advisors (not offboarded before the window), their licences valid in it, and when
 *   they were available, from the presence history (AdvisorPresenceChange);
 * - their behaviour fitted over the FIT_DAYS ending at the window's end (reporting/behaviourFit.ts).
 *
 * Bounded: the window is cut to `maxDays`, then to its first `maxRequests` requests; the answer
 * says where and why.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { LicenceKind } from "../matching/domain/types.ts";
import { fitBranch, type BranchFit } from "./behaviourFit.ts";

/** Behaviour is fitted over this many days up to the window's end: a short window alone has few offers. */
export const FIT_DAYS = 28;
/** At most this many offers (the latest) go into the fit. */
const MAX_FIT_OFFERS = 50_000;
const DAY_MS = 86_400_000;

export interface ReplayRequest {
  at: number;
  requiredLicence: LicenceKind;
  riskLevel: number;
  language: string;
  dedicatedAdvisorId: string | null;
  /** createdAt to cancelledAt for a client who gave up unanswered; null: they waited for the outcome. */
  patienceMs: number | null;
}

export interface ReplayAdvisor {
  id: string;
  licences: LicenceKind[];
  suitabilityMaxRisk: number;
  languages: string[];
  maxConcurrent: number;
  /** When they were available within the window, in order. */
  available: Array<{ startMs: number; endMs: number }>;
}

export interface ReplayHistory {
  branch: { id: string; region: string; timezone: string };
  from: number;
  /** The window's end after any cut. */
  to: number;
  cutShort: boolean;
  cutReason?: string;
  requests: ReplayRequest[];
  advisors: ReplayAdvisor[];
  fit: BranchFit;
  fitFrom: number;
}

export interface ReplayBounds {
  maxDays: number;
  maxRequests: number;
}

/** The branch's history for [from, to), cut to the bounds; null for an unknown branch. */
export async function replayHistory(prisma: PrismaClient, branchId: string, from: number, to: number, bounds: ReplayBounds): Promise<ReplayHistory | null> {
  const branch = await prisma.branch.findUnique({ where: { id: branchId }, select: { id: true, region: true, timezone: true } });
  if (!branch) return null;
  let end = to;
  let cutReason: string | undefined;
  if (end - from > bounds.maxDays * DAY_MS) {
    end = from + bounds.maxDays * DAY_MS;
    cutReason = `the window is longer than ${bounds.maxDays} days; replayed its first ${bounds.maxDays} days, to ${new Date(end).toISOString()}`;
  }
  const rows = await prisma.serviceRequest.findMany({
    where: { branchId, createdAt: { gte: new Date(from), lt: new Date(end) } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: bounds.maxRequests + 1,
    select: {
      createdAt: true,
      requiredLicence: true,
      riskLevel: true,
      language: true,
      status: true,
      assignedAt: true,
      cancelledAt: true,
      client: { select: { language: true, dedicatedAdvisorId: true } },
    },
  });
  if (rows.length > bounds.maxRequests) {
    end = rows[bounds.maxRequests]!.createdAt.getTime();
    cutReason = `the window holds more than ${bounds.maxRequests} requests; replayed its first ${bounds.maxRequests} or fewer, to ${new Date(end).toISOString()}`;
  }
  const advisors = await advisorsOf(prisma, branchId, from, end);
  const ids = new Set(advisors.map((a) => a.id));
  const requests = rows
    .filter((r) => r.createdAt.getTime() < end)
    .map((r) => ({
      at: r.createdAt.getTime(),
      requiredLicence: r.requiredLicence,
      riskLevel: r.riskLevel,
      language: r.language ?? r.client.language,
      dedicatedAdvisorId: r.client.dedicatedAdvisorId && ids.has(r.client.dedicatedAdvisorId) ? r.client.dedicatedAdvisorId : null,
      patienceMs: r.status === "cancelled" && !r.assignedAt && r.cancelledAt ? r.cancelledAt.getTime() - r.createdAt.getTime() : null,
    }));
  const fitFrom = end - FIT_DAYS * DAY_MS;
  const fit = await fitOf(prisma, [...ids], fitFrom, end);
  return {
    branch,
    from,
    to: end,
    cutShort: cutReason !== undefined,
    ...(cutReason ? { cutReason } : {}),
    requests,
    advisors,
    fit,
    fitFrom,
  };
}

async function advisorsOf(prisma: PrismaClient, branchId: string, from: number, to: number): Promise<ReplayAdvisor[]> {
  const rows = await prisma.advisor.findMany({
    where: { branchId, createdAt: { lt: new Date(to) }, OR: [{ offboardedAt: null }, { offboardedAt: { gt: new Date(from) } }] },
    orderBy: { id: "asc" },
    include: { licences: { where: { status: "active", validFrom: { lt: new Date(to) }, validUntil: { gt: new Date(from) } } } },
  });
  const changes = await prisma.advisorPresenceChange.findMany({
    where: { branchId, at: { lt: new Date(to) } },
    orderBy: [{ at: "asc" }, { id: "asc" }],
    select: { advisorId: true, presence: true, at: true },
  });
  return rows.map((a) => ({
    id: a.id,
    licences: [...new Set(a.licences.map((l) => l.kind))],
    suitabilityMaxRisk: a.suitabilityMaxRisk,
    languages: a.languages,
    maxConcurrent: a.maxConcurrent,
    available: availableSpans(
      changes.filter((c) => c.advisorId === a.id),
      from,
      to,
    ),
  }));
}

/** Spans of "available" within [from, to) from one advisor's changes (oldest first): the state at `from` is the last change before it. */
export function availableSpans(changes: Array<{ presence: string; at: Date }>, from: number, to: number): Array<{ startMs: number; endMs: number }> {
  const spans: Array<{ startMs: number; endMs: number }> = [];
  let since: number | null = null;
  for (const change of changes) {
    const at = Math.max(from, change.at.getTime());
    if (change.presence === "available" && since === null) since = at;
    else if (change.presence !== "available" && since !== null) {
      if (at > since) spans.push({ startMs: since, endMs: at });
      since = null;
    }
  }
  if (since !== null && to > since) spans.push({ startMs: since, endMs: to });
  return spans;
}

async function fitOf(prisma: PrismaClient, advisorIds: string[], from: number, to: number): Promise<BranchFit> {
  const range = { gte: new Date(from), lt: new Date(to) };
  const offers = await prisma.offer.findMany({
    where: { advisorId: { in: advisorIds }, sentAt: range, outcome: { in: ["accepted", "declined", "timed_out"] } },
    orderBy: { sentAt: "desc" },
    take: MAX_FIT_OFFERS,
    select: { advisorId: true, outcome: true, sentAt: true, respondedAt: true },
  });
  const handled = await prisma.serviceRequest.findMany({
    where: { assignedAdvisorId: { in: advisorIds }, assignedAt: range, completedAt: { not: null } },
    select: { assignedAdvisorId: true, assignedAt: true, completedAt: true },
  });
  return fitBranch(
    advisorIds,
    offers.map((o) => ({
      advisorId: o.advisorId,
      outcome: o.outcome as "accepted" | "declined" | "timed_out",
      thinkMs: o.outcome !== "timed_out" && o.respondedAt ? o.respondedAt.getTime() - o.sentAt.getTime() : null,
    })),
    handled.map((h) => ({ advisorId: h.assignedAdvisorId!, handleMs: h.completedAt!.getTime() - h.assignedAt!.getTime() })),
  );
}

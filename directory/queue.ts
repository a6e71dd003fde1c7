/**
 * A branch's waiting room for its manager: live requests from the system of record, and the branch's
 * advisors who are available right now according to the live matching store.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { LicenceKind, Pool } from "../matching/domain/types.ts";
import type { MatchingStore } from "../matching/store/port.ts";
import { listBranchAdvisors, type LicenceRecord } from "./advisors.ts";

export interface WaitingRequest {
  requestId: string;
  clientId: string;
  requiredLicence: LicenceKind;
  priority: number;
  createdAt: Date;
  /** The funnel pool the request is in, or "queue" once it has run through every stage. */
  stage: Pool | "queue";
  waitingSeconds: number;
}

export interface AvailableAdvisor {
  advisorId: string;
  name: string;
  /** Assignments in progress (live). */
  active: number;
  maxConcurrent: number;
  licences: LicenceRecord[];
}

export interface BranchQueue {
  waiting: WaitingRequest[];
  availableAdvisors: AvailableAdvisor[];
}

export async function branchQueue(
  prisma: PrismaClient,
  store: Pick<MatchingStore, "getAdvisors">,
  branchId: string,
  options: { limit: number; now?: Date },
): Promise<BranchQueue> {
  const now = options.now ?? new Date();
  const [requests, advisors] = await Promise.all([
    prisma.serviceRequest.findMany({
      where: { branchId, status: { in: ["pending", "offered"] } },
      orderBy: [{ priority: "desc" }, { createdAt: "asc" }, { id: "asc" }],
      take: options.limit,
      select: { id: true, clientId: true, requiredLicence: true, priority: true, createdAt: true, stage: true },
    }),
    // Offboarded and suspended advisors cannot take work whatever their last presence said.
    listBranchAdvisors(prisma, branchId).then((all) => all.filter((a) => a.status === "active")),
  ]);
  const live = advisors.length ? await store.getAdvisors(advisors.map((a) => a.id)) : [];
  return {
    waiting: requests.map((r) => ({
      requestId: r.id,
      clientId: r.clientId,
      requiredLicence: r.requiredLicence,
      priority: r.priority,
      createdAt: r.createdAt,
      stage: r.stage ?? "queue",
      waitingSeconds: Math.max(0, Math.floor((now.getTime() - r.createdAt.getTime()) / 1000)),
    })),
    availableAdvisors: advisors.flatMap((a, i) => {
      const state = live[i];
      if (state?.supply.presence !== "available") return [];
      return [{ advisorId: a.id, name: a.name, active: state.supply.active, maxConcurrent: a.maxConcurrent, licences: a.licences }];
    }),
  };
}

/** A branch's advisors by what they can do now; every active advisor of the branch is in one. */
export interface AdvisorsByPresence {
  /** Present and with a free slot: could take a request now. */
  available: number;
  /** Present, every slot taken by assignments in progress. */
  busy: number;
  away: number;
  /** Offline, or not in the live store at all (never came online since its last rebuild). */
  offline: number;
}

export interface BranchSnapshot {
  /** Live requests of the branch waiting for an advisor (pending or offered). */
  queueDepth: number;
  advisors: AdvisorsByPresence;
}

/**
 * The branch at a glance for its managers' live feed: the waiting requests from the system of
 * record, the active advisors by live presence from the matching store. Offboarded and suspended
 * advisors are not counted: they cannot take work whatever their last presence said.
 */
export async function branchSnapshot(prisma: PrismaClient, store: Pick<MatchingStore, "getAdvisors">, branchId: string): Promise<BranchSnapshot> {
  const [queueDepth, advisorIds] = await Promise.all([
    prisma.serviceRequest.count({ where: { branchId, status: { in: ["pending", "offered"] } } }),
    prisma.advisor.findMany({ where: { branchId, status: "active" }, select: { id: true } }).then((rows) => rows.map((r) => r.id)),
  ]);
  const live = advisorIds.length ? await store.getAdvisors(advisorIds) : [];
  const advisors: AdvisorsByPresence = { available: 0, busy: 0, away: 0, offline: 0 };
  for (const state of live) {
    const presence = state?.supply.presence ?? "offline";
    if (presence !== "available") advisors[presence]++;
    else if (state!.supply.active >= state!.profile.maxConcurrent) advisors.busy++;
    else advisors.available++;
  }
  return { queueDepth, advisors };
}

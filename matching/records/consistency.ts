/**
 * The consistency checker: compares the live matching store (Redis or memory) with PostgreSQL,
 * field by field, and checks the store's own invariants. Fault tests and the reconciler's tests run
 * it after driving the engine; an operator can run it against a quiet deployment.
 *
 * Which requests: every request the store lists as live, every request PostgreSQL has as live
 * (pending, offered, assigned), and every request PostgreSQL ended within `terminalWindowMs`, since
 * the store keeps terminal requests for a while and what it kept must match the record too.
 *
 * Which advisors: those the compared requests name (assignee, offers) and every advisor PostgreSQL
 * has not offboarded, as the store holds them.
 *
 * It only reads. Like every snapshot of two systems, it sees writes in flight half-done: a
 * divergence or violation is certain only on a quiet system, or when it persists across runs.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { AdvisorState, LiveRequest, MatchingStore } from "../store/port.ts";
import { compareRequest, isTerminal, type Divergence, type RecordedRequest } from "./consistencyCompare.ts";
import { checkInvariants, type LiveSnapshot, type Violation } from "./consistencyInvariants.ts";

export type { Divergence, RecordedRequest } from "./consistencyCompare.ts";
export type { Violation, ViolationKind } from "./consistencyInvariants.ts";

export interface ConsistencyReport {
  /** No divergence and no violation. */
  ok: boolean;
  /** How many request ids were compared. */
  requests: number;
  divergences: Divergence[];
  violations: Violation[];
}

export interface ConsistencyOptions {
  prisma: PrismaClient;
  store: MatchingStore;
  /** The clock the engine runs on (epoch ms): deadlines and offer expiries are judged against it. */
  now: number;
  /**
   * How late a deadline or an open offer's expiry may be before the request counts as stuck.
   * Default 30 s: the deadline lease (10 s) plus the safety-net sweep interval (10 s), with room.
   */
  settleMs?: number;
  /** How far back requests that ended are compared when the store still has them. Default 1 h, the Redis retention. */
  terminalWindowMs?: number;
}

const DEFAULT_SETTLE_MS = 30_000;
const DEFAULT_TERMINAL_WINDOW_MS = 3_600_000;
/** Ids per store read, so one call never carries an unbounded argument list. */
const BATCH = 500;

export async function checkConsistency(options: ConsistencyOptions): Promise<ConsistencyReport> {
  const { prisma, store, now } = options;
  const storeLive = await store.listLiveRequestIds();
  const recorded = await readRecorded(prisma, storeLive, now - (options.terminalWindowMs ?? DEFAULT_TERMINAL_WINDOW_MS));
  const ids = [...new Set([...storeLive, ...recorded.keys()])].sort();
  const live = await readLiveRequests(store, ids);

  const divergences = ids.flatMap((id) => compareRequest(id, live.get(id) ?? null, recorded.get(id) ?? null));
  const snapshot = await readLiveSnapshot(prisma, store, live);
  const violations = checkInvariants(snapshot, now, options.settleMs ?? DEFAULT_SETTLE_MS);
  return { ok: divergences.length === 0 && violations.length === 0, requests: ids.length, divergences, violations };
}

/** The rows to compare, by id: live ones, the store's live ids whatever their status, and recent ends. */
async function readRecorded(prisma: PrismaClient, storeLiveIds: string[], endedSince: number): Promise<Map<string, RecordedRequest>> {
  const since = new Date(endedSince);
  const rows = await prisma.serviceRequest.findMany({
    where: {
      OR: [
        { status: { in: ["pending", "offered", "assigned"] } },
        { id: { in: storeLiveIds } },
        { completedAt: { gte: since } },
        { cancelledAt: { gte: since } },
        { expiredAt: { gte: since } },
      ],
    },
    select: {
      id: true,
      status: true,
      stageIndex: true,
      assignedAdvisorId: true,
      callbackRequested: true,
      offers: { select: { id: true, advisorId: true, kind: true, stageIndex: true, outcome: true, sentAt: true, expiresAt: true, respondedAt: true } },
    },
  });
  return new Map(
    rows.map((row) => [
      row.id,
      {
        ...row,
        offers: row.offers.map((o) => ({ ...o, sentAt: o.sentAt.getTime(), expiresAt: o.expiresAt.getTime(), respondedAt: o.respondedAt?.getTime() ?? null })),
      },
    ]),
  );
}

/** `read` for every id, BATCH at a time, as [id, value] pairs. */
async function readEach<T>(ids: string[], read: (id: string) => Promise<T>): Promise<Array<[string, T]>> {
  const pairs: Array<[string, T]> = [];
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    const values = await Promise.all(batch.map(read));
    batch.forEach((id, j) => {
      pairs.push([id, values[j] as T]);
    });
  }
  return pairs;
}

/** The store's requests for these ids; ids it does not have are left out. */
async function readLiveRequests(store: MatchingStore, ids: string[]): Promise<Map<string, LiveRequest>> {
  const pairs = await readEach(ids, (id) => store.getRequest(id));
  return new Map(pairs.filter((pair): pair is [string, LiveRequest] => pair[1] !== null));
}

/**
 * Everything the invariants need from the store: the compared requests plus any request an advisor
 * claims to hold (by assignment or by push hold) that was not among them, the deadlines of the
 * non-terminal ones, and the advisors.
 */
async function readLiveSnapshot(prisma: PrismaClient, store: MatchingStore, compared: Map<string, LiveRequest>): Promise<LiveSnapshot> {
  const requests = new Map(compared);
  const advisorIds = new Set<string>();
  for (const request of requests.values()) {
    if (request.assignedAdvisorId) advisorIds.add(request.assignedAdvisorId);
    for (const offer of request.offers) advisorIds.add(offer.advisorId);
  }
  const onDuty = await prisma.advisor.findMany({ where: { status: { not: "offboarded" } }, select: { id: true } });
  for (const { id } of onDuty) advisorIds.add(id);
  const advisors = await readAdvisors(store, [...advisorIds].sort());

  // A hold names an offer, not a request: PostgreSQL knows which request an unknown offer belongs to.
  const knownOffers = new Set([...requests.values()].flatMap((r) => r.offers.map((o) => o.id)));
  const heldOffers = [...advisors.values()].flatMap((a) => a.pushHolds).filter((id) => !knownOffers.has(id));
  const holdRows = heldOffers.length ? await prisma.offer.findMany({ where: { id: { in: heldOffers } }, select: { requestId: true } }) : [];
  const extra = [...advisors.values()].flatMap((a) => a.assignments).concat(holdRows.map((r) => r.requestId));
  for (const [id, request] of await readLiveRequests(
    store,
    [...new Set(extra)].filter((id) => !requests.has(id)),
  ))
    requests.set(id, request);

  const open = [...requests.values()].filter((r) => !isTerminal(r.status)).map((r) => r.facts.id);
  const deadlines = new Map(await readEach(open, (id) => store.getDeadline(id)));
  return { requests, deadlines, advisors };
}

async function readAdvisors(store: MatchingStore, ids: string[]): Promise<Map<string, AdvisorState>> {
  const advisors = new Map<string, AdvisorState>();
  for (let i = 0; i < ids.length; i += BATCH) {
    for (const state of await store.getAdvisors(ids.slice(i, i + BATCH))) if (state) advisors.set(state.profile.id, state);
  }
  return advisors;
}

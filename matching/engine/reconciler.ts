/**
 * The reconciler: the safety net under the journal. A decision reaches PostgreSQL through its journal
 * entry; if that entry was never written (the process died between the store's decision and the
 * append) or was set aside, the record trails the live store for good. The reconciler finds such
 * requests by comparing revisions (LiveRequest.rev against ServiceRequest.liveRev) and offers (one
 * the record lacks, or whose outcome it lacks: a later decision's entry carries the row's state but
 * not the offers an earlier, lost one made) and repairs the record from the live store, through the
 * journal like any decision.
 *
 * It only touches requests whose last change is older than `graceMs`, so it never races a decision
 * whose entry is still on its way. A repair carries the offers the record lacks (their eligibility
 * marked as reconstructed: the snapshot taken at offer time was lost with the entry) and an event for
 * the status the record missed, so connections open and close as they would have.
 */
import { newId, requestIdOfOffer } from "../../core/ids.ts";
import type { DomainEvent } from "../events.ts";
import type { Recorder } from "../journal/recorder.ts";
import type { MatchingRecords, RecordedDecision, RecordedRevision } from "../records/port.ts";
import type { LiveRequest, MatchingStore } from "../store/port.ts";
import type { Pool } from "../domain/types.ts";

export interface ReconcileDeps {
  store: MatchingStore;
  records: MatchingRecords;
  recorder: Recorder;
  now: () => number;
  /** The request's current funnel stage (the engine's stageOf). */
  stageOf: (request: LiveRequest) => Promise<Pool | "queue">;
  /** Requests changed more recently than this are left alone (their entry may be in flight). */
  graceMs?: number;
  shouldContinue?: () => boolean;
  /** Puts a request the record has, and the live store lacks, into the live store (the engine's). */
  restore?: (request: LiveRequest) => Promise<void>;
  /** Requests compared per page (default 500). */
  pageSize?: number;
}

export interface ReconcileReport {
  /** Requests compared. */
  checked: number;
  /** Records found behind the live store. */
  behind: number;
  /** Of those, repaired now. */
  repaired: number;
  /** Requests the record has as live that the live store does not know. */
  missing: number;
  /**
   * Of those, put back into the live store: pending ones whose creation the caller may never have
   * been told of (the database committed the row as the server gave up waiting for it), so their
   * funnel runs and an idempotent retry finds them live.
   */
  restored: number;
  /** Live requests found waiting with no deadline, or one later than an open offer's expiry: made due again. */
  rescheduled: number;
}

const DEFAULT_GRACE_MS = 15_000;
/** Requests compared per page (one records query and one pipelined read of live documents). */
const DEFAULT_PAGE = 500;

export async function reconcile(deps: ReconcileDeps): Promise<ReconcileReport> {
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  const go = deps.shouldContinue ?? (() => true);
  const [liveIds, recordedLiveIds] = await Promise.all([deps.store.listLiveRequestIds(), deps.records.liveRequestIds()]);
  const ids = [...new Set([...liveIds, ...recordedLiveIds])];
  const report: ReconcileReport = { checked: 0, behind: 0, repaired: 0, missing: 0, restored: 0, rescheduled: 0 };
  const missing: string[] = [];
  const pageSize = Math.max(1, deps.pageSize ?? DEFAULT_PAGE);
  for (let start = 0; start < ids.length && go(); start += pageSize) {
    // A page at a time: one query for its recorded revisions, and its live documents read together
    // (node-redis pipelines them), so a pass costs round trips per page, not per request.
    const page = ids.slice(start, start + pageSize);
    const [recorded, lives] = await Promise.all([deps.records.recordedRevisions(page), Promise.all(page.map((id) => deps.store.getRequest(id)))]);
    for (let i = 0; i < page.length && go(); i++) {
      await check(page[i]!, lives[i] ?? null, recorded.get(page[i]!));
    }
  }
  if (deps.restore && missing.length && go()) {
    for (const request of await deps.records.liveRequests(missing, deps.now())) {
      // Young ones may be a creation in progress (the row is written before the live store hears of it).
      if (request.status !== "pending" || request.facts.createdAt > deps.now() - graceMs) continue;
      await deps.restore(request);
      report.restored++;
    }
  }
  return report;

  async function check(id: string, live: LiveRequest | null, row: RecordedRevision | undefined): Promise<void> {
    report.checked++;
    if (!live) {
      if (row && row.status !== "completed" && row.status !== "cancelled" && row.status !== "expired") {
        report.missing++;
        if (row.status === "pending") missing.push(id);
      }
      return;
    }
    // A request waiting in the funnel must be due by the time its open offers expire (only the
    // deadline closes them). With no deadline it would never move again (its timer was lost, e.g. a
    // command cut off by a Redis stall); with one later than an offer's expiry, the offer stays open
    // and holds the advisor's slot until then (two passes over the request overlapped, and the one
    // that read it before the offer was made wrote its deadline last). Either way: due now.
    if ((live.status === "pending" || live.status === "offered") && live.updatedAt <= deps.now() - graceMs) {
      const deadline = await deps.store.getDeadline(id);
      const lapsed = live.offers.filter((o) => o.outcome === null && o.expiresAt <= deps.now() - graceMs);
      if (deadline === null || lapsed.some((o) => deadline > o.expiresAt)) {
        await deps.store.setDeadline(id, deps.now());
        report.rescheduled++;
      }
    }
    if (!row || !trails(live, row)) return;
    report.behind++;
    if (live.updatedAt > deps.now() - graceMs) return;
    await deps.recorder.record(await repairOf(live, row.status, deps));
    report.repaired++;
  }
}

/** True when the record lacks something the live store decided. */
function trails(live: LiveRequest, row: RecordedRevision): boolean {
  if (live.rev > row.liveRev) return true;
  return live.offers.some((offer) => !row.offers.has(offer.id) || (offer.outcome !== null && row.offers.get(offer.id) === null));
}

async function repairOf(live: LiveRequest, recordedStatus: string, deps: ReconcileDeps): Promise<RecordedDecision> {
  const stage = await deps.stageOf(live);
  // Offers without a snapshot: the record keeps the ones it has and reconstructs the rest.
  const offers = live.offers.map((offer) => ({ offer, stage }));
  return {
    requestId: live.facts.id,
    rev: live.rev,
    request: live,
    stage: stage === "queue" ? null : stage,
    offers,
    events: statusEvents(live, recordedStatus),
  };
}

/** The event for a status the record missed, so its effects (connections, the audit trail) follow. */
function statusEvents(live: LiveRequest, recordedStatus: string): DomainEvent[] {
  if (live.status === recordedStatus) return [];
  const base = { id: newId("auditEvent"), at: live.updatedAt, requestId: live.facts.id, branchId: live.facts.branchId };
  const clientId = live.facts.clientId;
  const advisorId = live.assignedAdvisorId;
  switch (live.status) {
    case "assigned":
      return advisorId ? [{ ...base, type: "request.assigned", advisorId, clientId }] : [];
    case "completed":
      return advisorId ? [{ ...base, type: "request.completed", advisorId, clientId, requiredLicence: live.facts.requiredLicence }] : [];
    case "cancelled":
      return [{ ...base, type: "request.cancelled", clientId, advisorId }];
    case "expired":
      return [{ ...base, type: "request.expired", clientId, callbackRequested: live.callbackRequested }];
    default:
      return [];
  }
}

export interface SupplyReport {
  advisors: number;
  /** Capacity slots found held for a request not assigned to that advisor, or a hold without its open offer. */
  suspect: number;
  /** Of those, still wrong `graceMs` later: given back. */
  released: number;
}

/**
 * The advisor side of reconciliation. Every engine action now takes and gives back capacity slots in
 * the same atomic step as the request's change, so a slot held for nothing should not arise; this
 * stays as the safety net for what the single-entity operations (still on the port) or a restore
 * from an inconsistent record could leave, which would otherwise cost the advisor that capacity for
 * good. A slot found wrong is only a suspect (a step may be in flight); still wrong at a sweep
 * `graceMs` later, it is released. `suspects` carries what earlier sweeps saw (key → first seen).
 */
export async function reconcileSupply(
  deps: Pick<ReconcileDeps, "store" | "now" | "graceMs" | "shouldContinue"> & { advisorIds: string[]; suspects: Map<string, number> },
): Promise<SupplyReport> {
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;
  const go = deps.shouldContinue ?? (() => true);
  const report: SupplyReport = { advisors: 0, suspect: 0, released: 0 };
  const stillWrong = new Set<string>();
  const judge = async (key: string, release: () => Promise<unknown>) => {
    report.suspect++;
    stillWrong.add(key);
    const since = deps.suspects.get(key);
    if (since === undefined) deps.suspects.set(key, deps.now());
    else if (deps.now() - since >= graceMs) {
      await release();
      deps.suspects.delete(key);
      report.released++;
    }
  };
  for (let i = 0; i < deps.advisorIds.length && go(); i += 500) {
    const states = await deps.store.getAdvisors(deps.advisorIds.slice(i, i + 500));
    for (const state of states) {
      if (!state || (!state.assignments.length && !state.pushHolds.length)) continue;
      report.advisors++;
      const id = state.profile.id;
      for (const requestId of state.assignments) {
        const request = await deps.store.getRequest(requestId);
        if (request?.status === "assigned" && request.assignedAdvisorId === id) continue;
        await judge(`a:${id}:${requestId}`, () => deps.store.releaseAssignment(id, requestId));
      }
      for (const offerId of state.pushHolds) {
        const requestId = requestIdOfOffer(offerId);
        // Older offer ids do not name their request: leave their holds to the offer's own timeout.
        if (!requestId) continue;
        const offer = (await deps.store.getRequest(requestId))?.offers.find((o) => o.id === offerId);
        if (offer && offer.outcome === null && offer.advisorId === id) continue;
        await judge(`h:${id}:${offerId}`, () => deps.store.releasePushHold(id, offerId));
      }
    }
  }
  // A suspect that came right (its saga finished) is forgotten.
  for (const key of deps.suspects.keys()) if (!stillWrong.has(key)) deps.suspects.delete(key);
  return report;
}

/**
 * The supply half of the in-memory store: advisors, their capacity and stats, and the candidate
 * index. Every method is synchronous and finishes its checks and writes in one go, so that the
 * async facade (store.ts) is atomic with respect to every other call on the same event loop.
 *
 * Methods return internal objects; the facade copies them on the way out.
 */
import { checkEligibility, type CapacityRule, type EligibilitySnapshot } from "../../domain/eligibility.ts";
import { EMPTY_STATS, updateResponsiveness, type OfferAnswer } from "../../domain/ranking.ts";
import type { AdvisorProfile, Presence, RequestFacts } from "../../domain/types.ts";
import type { AdvisorState, CandidateQuery, CapacityResult, EligibilityRefusal } from "../port.ts";
import { isIndexable } from "../candidateMembership.ts";
import { CandidateIndex } from "./candidateIndex.ts";
import { PresenceIndex } from "./presenceIndex.ts";

interface AdvisorRecord {
  state: AdvisorState;
  /**
   * The eligibility snapshot each hold and assignment was granted with, so that a retried call
   * (duplicate) answers with the facts of the original decision, which is what the compliance
   * record must cite. Not part of AdvisorState: a restore starts these empty.
   */
  holdSnapshots: Map<string, EligibilitySnapshot>;
  assignmentSnapshots: Map<string, EligibilitySnapshot>;
}

const unknownAdvisor = (advisorId: string): EligibilityRefusal => ({
  ok: false,
  reason: "UNKNOWN_ADVISOR",
  detail: `advisor ${advisorId} is not registered`,
});

const clamp01 = (value: number): number => (Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value)));

export class AdvisorBook {
  private readonly advisors = new Map<string, AdvisorRecord>();
  private readonly index = new CandidateIndex();
  private readonly presence = new PresenceIndex();

  upsert(profile: AdvisorProfile): AdvisorState {
    const existing = this.advisors.get(profile.id);
    if (existing) {
      existing.state.profile = profile;
      this.index.update(existing.state);
      return existing.state;
    }
    // Not a heartbeat: heartbeatAt stays 0 ("never") until setPresence records one.
    const state: AdvisorState = {
      profile,
      supply: { presence: "offline", heartbeatAt: 0, active: 0, pendingPush: 0 },
      stats: { ...EMPTY_STATS },
      assignments: [],
      pushHolds: [],
    };
    this.advisors.set(profile.id, { state, holdSnapshots: new Map(), assignmentSnapshots: new Map() });
    this.index.update(state);
    return state;
  }

  /** The advisor after the write and its presence before it (see MatchingStore.setPresence); null if unknown. */
  setPresence(advisorId: string, presence: Presence, now: number, onlyIfNewer = false): { advisor: AdvisorState; previous: Presence } | null {
    const record = this.advisors.get(advisorId);
    if (!record) return null;
    const previous = record.state.supply.presence;
    if (onlyIfNewer && !(record.state.supply.heartbeatAt < now)) return { advisor: record.state, previous };
    record.state.supply.presence = presence;
    record.state.supply.heartbeatAt = now;
    this.index.update(record.state);
    this.presence.update(record.state);
    return { advisor: record.state, previous };
  }

  /** Offline only if the heartbeat is still older than the cut-off (see MatchingStore.expirePresence). */
  expirePresence(
    advisorId: string,
    heartbeatBefore: number,
  ): { ok: true; advisor: AdvisorState; duplicate: boolean } | { ok: false; reason: "UNKNOWN_ADVISOR" | "NOT_DUE" } {
    const state = this.advisors.get(advisorId)?.state;
    if (!state) return { ok: false, reason: "UNKNOWN_ADVISOR" };
    if (state.supply.presence === "offline") return { ok: true, advisor: state, duplicate: true };
    if (!(state.supply.heartbeatAt < heartbeatBefore)) return { ok: false, reason: "NOT_DUE" };
    state.supply.presence = "offline";
    this.index.update(state);
    this.presence.update(state);
    return { ok: true, advisor: state, duplicate: false };
  }

  findLapsed(heartbeatBefore: number, limit: number): string[] {
    return this.presence.lapsed(heartbeatBefore, limit);
  }

  countAvailable(heartbeatAfter: number): number {
    return this.presence.countAvailable(heartbeatAfter);
  }

  get(advisorId: string): AdvisorState | null {
    return this.advisors.get(advisorId)?.state ?? null;
  }

  findCandidates(query: CandidateQuery): AdvisorState[] {
    const ids = this.index.query(query, (advisorId) => {
      const state = this.advisors.get(advisorId)?.state;
      // The index already guarantees the rest; re-checking is cheap and guards against a missed re-index.
      return state !== undefined && isIndexable(state) && state.profile.suitabilityMaxRisk >= query.minRisk;
    });
    return ids.map((id) => this.advisors.get(id)!.state);
  }

  holdPushSlot(advisorId: string, request: RequestFacts, offerId: string, now: number, presenceTtlMs: number): CapacityResult {
    const record = this.advisors.get(advisorId);
    if (!record) return unknownAdvisor(advisorId);
    const { state } = record;

    if (state.pushHolds.includes(offerId)) {
      return this.duplicate(record, record.holdSnapshots.get(offerId), () =>
        this.check(state, request, now, presenceTtlMs, "push", { pendingPush: state.supply.pendingPush - 1 }),
      );
    }

    const checked = this.check(state, request, now, presenceTtlMs, "push");
    if (!checked.ok) return checked;
    state.pushHolds.push(offerId);
    state.supply.pendingPush = state.pushHolds.length;
    record.holdSnapshots.set(offerId, checked.snapshot);
    // Holds do not change index membership (it counts assignments only), so no re-index.
    return { ok: true, snapshot: checked.snapshot, advisor: state, duplicate: false };
  }

  checkBroadcastEligibility(advisorId: string, request: RequestFacts, now: number, presenceTtlMs: number): CapacityResult {
    const record = this.advisors.get(advisorId);
    if (!record) return unknownAdvisor(advisorId);
    const checked = this.check(record.state, request, now, presenceTtlMs, "broadcast");
    if (!checked.ok) return checked;
    return { ok: true, snapshot: checked.snapshot, advisor: record.state, duplicate: false };
  }

  takeAssignment(advisorId: string, request: RequestFacts, offerId: string, now: number, presenceTtlMs: number): CapacityResult {
    const record = this.advisors.get(advisorId);
    if (!record) return unknownAdvisor(advisorId);
    const { state } = record;

    if (state.assignments.includes(request.id)) {
      return this.duplicate(record, record.assignmentSnapshots.get(request.id), () =>
        this.check(state, request, now, presenceTtlMs, "accept", { active: state.supply.active - 1 }),
      );
    }

    // Accepting one's own push offer converts its held slot; any other accept must fit beside the holds.
    const convertsHold = state.pushHolds.includes(offerId);
    const checked = this.check(state, request, now, presenceTtlMs, convertsHold ? "accept" : "push");
    if (!checked.ok) return checked;

    if (convertsHold) {
      state.pushHolds = state.pushHolds.filter((held) => held !== offerId);
      record.holdSnapshots.delete(offerId);
    }
    state.assignments.push(request.id);
    state.supply.active = state.assignments.length;
    state.supply.pendingPush = state.pushHolds.length;
    state.stats.lastAssignedAt = now;
    record.assignmentSnapshots.set(request.id, checked.snapshot);
    this.index.update(state);
    return { ok: true, snapshot: checked.snapshot, advisor: state, duplicate: false };
  }

  releaseAssignment(advisorId: string, requestId: string): AdvisorState | null {
    const record = this.advisors.get(advisorId);
    if (!record) return null;
    const { state } = record;
    if (state.assignments.includes(requestId)) {
      state.assignments = state.assignments.filter((id) => id !== requestId);
      state.supply.active = state.assignments.length;
      record.assignmentSnapshots.delete(requestId);
      this.index.update(state);
    }
    return state;
  }

  releasePushHold(advisorId: string, offerId: string): AdvisorState | null {
    const record = this.advisors.get(advisorId);
    if (!record) return null;
    const { state } = record;
    if (state.pushHolds.includes(offerId)) {
      state.pushHolds = state.pushHolds.filter((id) => id !== offerId);
      state.supply.pendingPush = state.pushHolds.length;
      record.holdSnapshots.delete(offerId);
    }
    return state;
  }

  /** Unknown advisors are ignored: an answer can outlive a directory removal, and that is not a fault. */
  recordAnswer(advisorId: string, answer: OfferAnswer): void {
    const state = this.advisors.get(advisorId)?.state;
    if (state) state.stats = updateResponsiveness(state.stats, answer, 0.2);
  }

  recordRating(advisorId: string, stars: number): void {
    const state = this.advisors.get(advisorId)?.state;
    if (!state) return;
    state.stats.ratingSum += stars;
    state.stats.ratingCount += 1;
  }

  setIncentive(advisorId: string, value: number): void {
    const state = this.advisors.get(advisorId)?.state;
    if (state) state.stats.incentive = clamp01(value);
  }

  /** Writes the state exactly as given (the system of record knows best) and re-indexes it. */
  restore(state: AdvisorState): void {
    this.advisors.set(state.profile.id, { state, holdSnapshots: new Map(), assignmentSnapshots: new Map() });
    this.index.update(state);
    this.presence.update(state);
  }

  clear(): void {
    this.advisors.clear();
    this.index.clear();
    this.presence.clear();
  }

  /**
   * Runs checkEligibility (never a re-implementation) on the advisor's current facts, optionally with
   * adjusted counters (used to re-check a duplicate as if its own slot were not yet taken).
   */
  private check(
    state: AdvisorState,
    request: RequestFacts,
    now: number,
    presenceTtlMs: number,
    capacityRule: CapacityRule,
    supplyOverride: Partial<AdvisorState["supply"]> = {},
  ): { ok: true; snapshot: EligibilitySnapshot } | EligibilityRefusal {
    const result = checkEligibility({
      advisor: state.profile,
      supply: { ...state.supply, ...supplyOverride },
      request,
      now,
      presenceTtlMs,
      capacityRule,
    });
    return result.eligible ? { ok: true, snapshot: result.snapshot } : { ok: false, reason: result.reason, detail: result.detail };
  }

  /**
   * A retried hold or accept changes nothing and answers with the original snapshot. After a
   * restore the original is gone, so the retry is re-checked as if its own slot were free; if that
   * fails the refusal is returned, since there is no honest snapshot to give.
   */
  private duplicate(
    record: AdvisorRecord,
    original: EligibilitySnapshot | undefined,
    recheck: () => { ok: true; snapshot: EligibilitySnapshot } | EligibilityRefusal,
  ): CapacityResult {
    if (original) return { ok: true, snapshot: original, advisor: record.state, duplicate: true };
    const checked = recheck();
    if (!checked.ok) return checked;
    return { ok: true, snapshot: checked.snapshot, advisor: record.state, duplicate: true };
  }
}

/**
 * Choosing advisors for one offer step and making the offers: look up candidates through the store's
 * index, keep the eligible ones (recording who was excluded by which rule), rank them, then one
 * atomic store step holds capacity (push) or re-checks eligibility (broadcast) and records the
 * offers on the request, all or nothing.
 */
import { newOfferId } from "../../core/ids.ts";
import { checkEligibility, explainExclusions, type EligibilityResult, type EligibilitySnapshot, type IneligibleReason } from "../domain/eligibility.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import { type Candidate, rankCandidates, type RankedCandidate } from "../domain/ranking.ts";
import type { OfferKind, Pool } from "../domain/types.ts";
import type { OfferContext } from "../journal/draft.ts";
import type { AdvisorState, JudgedCandidate, LiveRequest, MatchingStore, OfferState } from "../store/port.ts";

export interface OfferPlan {
  pool: Pool | "queue";
  /** Where candidates come from: the stage's pool, or for the queue the funnel's widest. */
  reach: Pool;
  offerKind: OfferKind;
  count: number;
  expiresAt: number;
}

export interface MadeOffers {
  request: LiveRequest;
  offers: Array<{ offer: OfferState; eligibility: EligibilitySnapshot }>;
  /** Candidates the index returned but the rules refused, by rule: the decision's reasons. */
  excluded: Record<IneligibleReason, string[]>;
  /** The journal entry's id when the store appended one in the same step (MatchingStore.makeOffers). */
  journalId: string | null;
}

export type OfferAttempt =
  | { made: true; result: MadeOffers }
  /** Nobody eligible: the funnel moves on. `excluded` says who was refused by which rule. */
  | { made: false; stale: false; excluded: Record<IneligibleReason, string[]> }
  /** The request changed under us (another process moved it): re-read and decide again. */
  | { made: false; stale: true };

/** How many index hits to read per offer wanted: enough to survive stale entries and exclusions. */
const CANDIDATE_OVERSCAN = 4;
const MIN_CANDIDATES = 32;
/**
 * How far a lookup widens when a full window held too few eligible advisors. The index orders by
 * time since the last assignment and knows nothing of pending push offers, so under load the first
 * window can be advisors already full of pushes while idle ones sit beyond it (the scale-out run
 * saw 5-8% of requests skip the push stage that way at 30 requests/s). Each widening reads 4× more;
 * the bound keeps a saturated pool's lookup cost bounded too.
 */
const WIDEN_FACTOR = 4;
const MAX_CANDIDATES = 2_048;

async function lookUp(store: MatchingStore, request: LiveRequest, plan: OfferPlan, limit: number): Promise<AdvisorState[]> {
  const { facts } = request;
  const pool = plan.reach;
  if (pool === "dedicated") {
    const dedicated = facts.dedicatedAdvisorId ? await store.getAdvisor(facts.dedicatedAdvisorId) : null;
    return dedicated ? [dedicated] : [];
  }
  const poolId = pool === "branch" ? facts.branchId : pool === "region" ? facts.region : "*";
  return store.findCandidates({
    pool,
    poolId,
    licence: facts.requiredLicence,
    language: facts.language,
    minRisk: facts.riskLevel,
    limit,
  });
}

export interface Selection {
  ranked: RankedCandidate[];
  verdicts: Array<{ advisorId: string; result: EligibilityResult }>;
  /** Each eligible candidate's state as read and its snapshot, by advisor id (OfferRoundInput's judged). */
  judged: Map<string, JudgedCandidate>;
}

/**
 * Candidates for one offer step, eligible and ranked best first: the index lookup (cost bounded by
 * the limit, not by the number of registered advisors), the rules, then the ranking.
 */
export async function selectCandidates(
  store: MatchingStore,
  request: LiveRequest,
  plan: OfferPlan,
  policy: DispatchPolicy,
  now: number,
  presenceTtlMs: number,
): Promise<Selection> {
  const { facts } = request;
  const excludedIds = new Set(request.excluded);
  const alreadyOpen = new Set(request.offers.filter((o) => o.outcome === null).map((o) => o.advisorId));
  const capacityRule = plan.offerKind === "push" ? "push" : "broadcast";
  const judge = (candidates: AdvisorState[]) =>
    candidates.map((c) => ({
      advisorId: c.profile.id,
      state: c,
      result: checkEligibility({
        advisor: c.profile,
        supply: c.supply,
        request: facts,
        now,
        presenceTtlMs,
        capacityRule,
        excluded: excludedIds.has(c.profile.id) || alreadyOpen.has(c.profile.id),
      }),
    }));
  let limit = Math.max(MIN_CANDIDATES, plan.count * CANDIDATE_OVERSCAN);
  let candidates = await lookUp(store, request, plan, limit);
  let verdicts = judge(candidates);
  // A full window with fewer eligible than the round wants may hide eligible advisors beyond it: widen.
  while (candidates.length === limit && limit < MAX_CANDIDATES && verdicts.filter((v) => v.result.eligible).length < plan.count) {
    limit = Math.min(limit * WIDEN_FACTOR, MAX_CANDIDATES);
    candidates = await lookUp(store, request, plan, limit);
    verdicts = judge(candidates);
  }
  const judged = new Map<string, JudgedCandidate>();
  const eligible: Candidate[] = [];
  for (const { advisorId, state, result } of verdicts) {
    if (!result.eligible) continue;
    judged.set(advisorId, { state, eligibility: result.snapshot });
    eligible.push({ advisor: state.profile, supply: state.supply, stats: state.stats });
  }
  const ranked = rankCandidates(eligible, { weights: policy.weights, ratingPrior: policy.ratingPrior, now, dedicatedAdvisorId: facts.dedicatedAdvisorId });
  return { ranked, verdicts: verdicts.map((v) => ({ advisorId: v.advisorId, result: v.result })), judged };
}

/**
 * One offer round: select and rank candidates, then let the store make the offers in one atomic
 * step (MatchingStore.makeOffers: holds or re-checks, offers, deadline and, on a journaling store,
 * the journal entry). `context` is the journal context without the exclusions, which are found here.
 */
export async function makeOffers(
  store: MatchingStore,
  request: LiveRequest,
  plan: OfferPlan,
  policy: DispatchPolicy,
  now: number,
  presenceTtlMs: number,
  context: Omit<OfferContext, "excluded"> | null = null,
): Promise<OfferAttempt> {
  const { facts } = request;
  const { ranked, verdicts, judged } = await selectCandidates(store, request, plan, policy, now, presenceTtlMs);
  const excluded = explainExclusions(verdicts);
  // A push walks down the whole ranking (the index may be a moment stale); a broadcast goes to the top.
  const considered = plan.offerKind === "push" ? ranked : ranked.slice(0, plan.count);
  if (!considered.length) return { made: false, stale: false, excluded };

  const made = await store.makeOffers(
    {
      requestId: facts.id,
      stageIndex: request.stageIndex,
      kind: plan.offerKind,
      // What each was judged on: the store may take the snapshot while the advisor is unchanged.
      candidates: considered.map((c) => ({ advisorId: c.advisor.id, offerId: newOfferId(facts.id, now), judged: judged.get(c.advisor.id) })),
      count: plan.count,
      now,
      expiresAt: plan.expiresAt,
      presenceTtlMs,
      language: facts.language,
    },
    context ? { ...context, excluded } : null,
  );
  if (!made.ok) return { made: false, stale: true };
  if (!made.offers.length) return { made: false, stale: false, excluded };
  return { made: true, result: { request: made.request, offers: made.offers, excluded, journalId: made.journalId } };
}

/**
 * Advisor behaviour fitted from a branch's record, for the policy what-if (simulation/replay.ts):
 * per advisor, how often they accept an offer, how long they think before answering, and how long
 * a conversation takes, from their offers and assignments. Pure arithmetic on samples; the samples
 * come from reporting/replayHistory.ts.
 *
 * The behaviour model it feeds (simulation/behaviour.ts) draws a think time for every offer, then
 * accepts with acceptProbability, else declines with declineShare, else lets the offer time out.
 * So acceptProbability is accepted over every resolved offer (timeouts included) and declineShare
 * declined over the ones not accepted; acceptRate (accepted over answered, the figure a manager
 * reads) is reported beside them. Think times are observed only for answered offers.
 */

/** Below this many resolved offers (or completed conversations) an advisor takes the branch's pooled figures. */
export const MIN_OFFERS_TO_FIT = 5;
export const MIN_HANDLED_TO_FIT = 3;

/** What a branch with no history at all is assumed to do (stated in the answer as "default"). */
export const DEFAULT_FIT = { acceptProbability: 0.8, declineShare: 0.7, thinkMedianSeconds: 10, thinkSigma: 0.5, handleMedianSeconds: 300, handleSigma: 0.5 };

export interface OfferSample {
  advisorId: string;
  outcome: "accepted" | "declined" | "timed_out";
  /** sentAt to respondedAt; null for a timeout. */
  thinkMs: number | null;
}

export interface HandleSample {
  advisorId: string;
  /** assignedAt to completedAt. */
  handleMs: number;
}

/** Log-normal around a median (sigma 0: always the median), as the scenario's DurationSchema. */
export interface FittedDuration {
  kind: "lognormal";
  medianSeconds: number;
  sigma: number;
}

export interface FittedBehaviour {
  /** Where each part came from: the advisor's own record, the branch's pooled record, or the default. */
  source: { offers: "own" | "pooled" | "default"; handle: "own" | "pooled" | "default" };
  offers: number;
  handled: number;
  acceptRate: number;
  acceptProbability: number;
  declineShare: number;
  thinkTime: FittedDuration;
  handleTime: FittedDuration;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median, and the spread of the logs (the log-normal's sigma, capped at 3 as the schema is). */
export function fitDuration(samplesMs: number[]): FittedDuration | null {
  const positive = samplesMs.filter((ms) => ms > 0).sort((a, b) => a - b);
  if (positive.length === 0) return null;
  const logs = positive.map((ms) => Math.log(ms));
  const mean = logs.reduce((s, x) => s + x, 0) / logs.length;
  const variance = logs.reduce((s, x) => s + (x - mean) ** 2, 0) / logs.length;
  return { kind: "lognormal", medianSeconds: median(positive) / 1000, sigma: Math.min(3, Math.round(Math.sqrt(variance) * 1000) / 1000) };
}

interface OfferFit {
  offers: number;
  acceptRate: number;
  acceptProbability: number;
  declineShare: number;
  thinkTime: FittedDuration;
}

function fitOffers(samples: OfferSample[]): OfferFit | null {
  if (samples.length === 0) return null;
  const accepted = samples.filter((s) => s.outcome === "accepted").length;
  const declined = samples.filter((s) => s.outcome === "declined").length;
  const answered = accepted + declined;
  const thinkTime = fitDuration(samples.flatMap((s) => (s.thinkMs === null ? [] : [s.thinkMs])));
  if (!thinkTime) return null;
  const notAccepted = samples.length - accepted;
  return {
    offers: samples.length,
    acceptRate: answered > 0 ? accepted / answered : 0,
    acceptProbability: accepted / samples.length,
    declineShare: notAccepted > 0 ? declined / notAccepted : DEFAULT_FIT.declineShare,
    thinkTime,
  };
}

const DEFAULT_OFFERS: OfferFit = {
  offers: 0,
  acceptRate: DEFAULT_FIT.acceptProbability,
  acceptProbability: DEFAULT_FIT.acceptProbability,
  declineShare: DEFAULT_FIT.declineShare,
  thinkTime: { kind: "lognormal", medianSeconds: DEFAULT_FIT.thinkMedianSeconds, sigma: DEFAULT_FIT.thinkSigma },
};
const DEFAULT_HANDLE: FittedDuration = { kind: "lognormal", medianSeconds: DEFAULT_FIT.handleMedianSeconds, sigma: DEFAULT_FIT.handleSigma };

export interface BranchFit {
  advisors: Map<string, FittedBehaviour>;
  /** The branch's figures over every advisor's samples; what an advisor with too little history gets. */
  pooled: FittedBehaviour;
}

/** Each advisor's behaviour, from their own samples when there are enough, else the branch's pooled ones. */
export function fitBranch(advisorIds: string[], offers: OfferSample[], handles: HandleSample[]): BranchFit {
  const pooledOffers = fitOffers(offers);
  const pooledHandle = fitDuration(handles.map((h) => h.handleMs));
  const pooled: FittedBehaviour = {
    source: { offers: pooledOffers ? "pooled" : "default", handle: pooledHandle ? "pooled" : "default" },
    ...(pooledOffers ?? DEFAULT_OFFERS),
    handled: handles.length,
    handleTime: pooledHandle ?? DEFAULT_HANDLE,
  };
  const advisors = new Map<string, FittedBehaviour>();
  for (const advisorId of advisorIds) {
    const own = offers.filter((o) => o.advisorId === advisorId);
    const ownHandles = handles.filter((h) => h.advisorId === advisorId).map((h) => h.handleMs);
    const offerFit = own.length >= MIN_OFFERS_TO_FIT ? fitOffers(own) : null;
    const handleFit = ownHandles.length >= MIN_HANDLED_TO_FIT ? fitDuration(ownHandles) : null;
    const { acceptRate, acceptProbability, declineShare, thinkTime } = offerFit ?? pooled;
    advisors.set(advisorId, {
      source: { offers: offerFit ? "own" : pooled.source.offers, handle: handleFit ? "own" : pooled.source.handle },
      offers: own.length,
      acceptRate,
      acceptProbability,
      declineShare,
      thinkTime,
      handled: ownHandles.length,
      handleTime: handleFit ?? pooled.handleTime,
    });
  }
  return { advisors, pooled };
}

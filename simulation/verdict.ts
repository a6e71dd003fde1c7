/**
 * The rule for the shipped default: it must be the best of the compared policies on answer
 * rate, then on median time to accept. Over seeds, "better" means the paired 95% interval of the
 * difference lies wholly on one side of 0. Each other policy is judged against the default:
 *
 * - answer rate interval above 0: the policy beats the default; below 0: the default beats it;
 * - answer rate interval containing 0 (not distinguishable): then median time to accept decides,
 *   lower being better; an interval containing 0 there too is a tie.
 *
 * The default wins when no policy beats it. Every judgement carries its evidence (the intervals).
 * A compared policy that is the default itself (the same dispatch policy and incentives, as
 * pure-grab is since the default grabs at every stage) is judged "same-policy", not a tie.
 */
import { sideOfZero, type PairedDifference } from "./stats.ts";

/** What the rule reads of a policy (seeds.ts's PolicyAcrossSeeds has it). */
export interface PolicyAgainstDefault {
  name: string;
  vsDefault: { answerRate: PairedDifference; timeToAcceptP50Ms: PairedDifference } | null;
  /** The same dispatch policy and incentives as the default: its days are the default's. */
  sameAsDefault?: boolean;
}

export type Outcome = "default-better" | "policy-better" | "tie" | "same-policy";

export interface Judgement {
  policy: string;
  outcome: Outcome;
  /** The figure that decided: answer rate when its interval excludes 0, else median time to accept. */
  decidedBy: "answerRate" | "timeToAcceptP50Ms" | "neither";
  evidence: string;
}

export interface Verdict {
  defaultWins: boolean;
  /** Policies that beat the default by the rule. */
  beatenBy: string[];
  /** Policies not distinguishable from the default on either figure. */
  tiedWith: string[];
  judgements: Judgement[];
  summary: string;
}

const pp = (v: number | null) => (v === null ? "—" : `${v >= 0 ? "+" : ""}${(v * 100).toFixed(2)} pp`);
const sec = (v: number | null) => (v === null ? "—" : `${v >= 0 ? "+" : ""}${(v / 1000).toFixed(2)} s`);

export function describeDifference(d: PairedDifference, unit: "rate" | "ms"): string {
  const f = unit === "rate" ? pp : sec;
  return `${f(d.mean)} [${f(d.low)}, ${f(d.high)}]`;
}

function judge(policy: PolicyAgainstDefault): Judgement {
  if (policy.sameAsDefault) {
    return {
      policy: policy.name,
      outcome: "same-policy",
      decidedBy: "neither",
      evidence: "the default's own dispatch policy and incentives: the same days, the same figures",
    };
  }
  const { answerRate, timeToAcceptP50Ms } = policy.vsDefault!;
  const rate = `answer rate ${describeDifference(answerRate, "rate")}`;
  const time = `median time to accept ${describeDifference(timeToAcceptP50Ms, "ms")}`;
  const onRate = sideOfZero(answerRate);
  if (onRate === "above") return { policy: policy.name, outcome: "policy-better", decidedBy: "answerRate", evidence: `${rate}: higher than the default` };
  if (onRate === "below") return { policy: policy.name, outcome: "default-better", decidedBy: "answerRate", evidence: `${rate}: lower than the default` };
  const onTime = sideOfZero(timeToAcceptP50Ms);
  const tied = onRate === "unknown" ? "no interval (fewer than 2 seeds)" : "interval contains 0";
  if (onTime === "below")
    return { policy: policy.name, outcome: "policy-better", decidedBy: "timeToAcceptP50Ms", evidence: `${rate} (${tied}); ${time}: faster than the default` };
  if (onTime === "above")
    return { policy: policy.name, outcome: "default-better", decidedBy: "timeToAcceptP50Ms", evidence: `${rate} (${tied}); ${time}: slower than the default` };
  return { policy: policy.name, outcome: "tie", decidedBy: "neither", evidence: `${rate} and ${time}: neither interval excludes 0` };
}

/** Judges every policy but the default against it (the policies must carry their paired differences). */
export function verdictOf(policies: readonly PolicyAgainstDefault[]): Verdict {
  const judgements = policies.filter((p) => p.vsDefault !== null).map(judge);
  const beatenBy = judgements.filter((j) => j.outcome === "policy-better").map((j) => j.policy);
  const tiedWith = judgements.filter((j) => j.outcome === "tie").map((j) => j.policy);
  const same = judgements.filter((j) => j.outcome === "same-policy").map((j) => j.policy);
  const defaultWins = beatenBy.length === 0;
  const itself = same.length ? ` (${same.join(", ")}: the default itself)` : "";
  const summary = defaultWins
    ? tiedWith.length === 0
      ? `the default wins: every other policy is worse on answer rate, or as good on it and slower to accept${itself}`
      : `the default is not beaten, but not distinguishable from ${tiedWith.join(", ")} on answer rate or median time to accept${itself}`
    : `the default does not win: beaten by ${beatenBy.join(", ")}`;
  return { defaultWins, beatenBy, tiedWith, judgements, summary };
}

/**
 * The policy what-if: a branch's real requests of a window replayed through the production engine
 * under its current policy and under a candidate, each on a fresh embedded record, with advisor
 * behaviour fitted from the branch's record (reporting/replayHistory.ts, reporting/behaviourFit.ts).
 * The records are loaded from a migrated template (replayRecord.ts).
 * The API reaches it through AppDeps.policyReplay (reporting/policyReplay.ts says why).
 *
 * The replay's day is the simulator's (day.ts simulateDay): the requests arrive when they arrived,
 * advisors are available when their presence history says they were, and answer, think and handle
 * as fitted. Both policies see the same arrivals, spans and seed, so the difference between the two
 * columns is the policy's. KPIs: reporting's branchKpis over the rows the engine wrote, as GET
 * /v1/branches/:id/kpis computes them over the real record.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { getBranchPolicy } from "../directory/policies.ts";
import type { DispatchPolicy } from "../matching/domain/policy.ts";
import type { FittedBehaviour } from "../reporting/behaviourFit.ts";
import { EMPTY_KPIS } from "../reporting/kpiQuery.ts";
import { branchKpis, type Kpis } from "../reporting/kpis.ts";
import { REPLAY_LIMITS, type PolicyReplayInput, type PolicyReplayResult, type ReplayLimits } from "../reporting/policyReplay.ts";
import { replayHistory, type ReplayHistory } from "../reporting/replayHistory.ts";
import { simulateDay } from "./day.ts";
import type { Population } from "./population.ts";
import { writePopulation } from "./records.ts";
import { openReplayRecord } from "./replayRecord.ts";

/** A client who was answered (or still waiting) in reality waits this long in the replay, unless the policy ends the request first. */
const PATIENT_MS = 86_400_000;

export const REPLAY_ASSUMPTIONS = [
  "Only this branch's advisors take part: the region and national stages find no advisors of other branches in the replay.",
  "Advisors are available exactly when their presence history says they were; away counts as unavailable.",
  "A client who cancelled before being answered gives up after the same wait in the replay; every other client waits until the policy ends the request.",
  "Advisors answer, think and handle as fitted from the branch's record (the pooled figures for those with too little history); incentives play no part.",
  "Requests are replayed as chat in auto mode at priority 0; the client's dedicated advisor is the one on record now.",
];

class ReplayTimedOut extends Error {}

/** The branch's window as the simulator's population: one branch, its advisors with their fitted behaviour, the requests as arrivals. */
export function populationOf(history: ReplayHistory): Population {
  const { branch } = history;
  const behaviourOf = (fit: FittedBehaviour) => ({
    acceptProbability: fit.acceptProbability,
    acceptByLoad: [1],
    declineShare: fit.declineShare,
    thinkTime: fit.thinkTime,
    handleTime: fit.handleTime,
    noShowRate: 0,
    incentiveResponse: { acceptUplift: 0, thinkTimeCut: 0 },
  });
  return {
    dayStart: history.from,
    branches: [{ id: branch.id, name: branch.id, region: branch.region, timezone: branch.timezone }],
    advisors: history.advisors.map((a) => ({
      id: a.id,
      branchId: branch.id,
      region: branch.region,
      licences: a.licences,
      suitabilityMaxRisk: a.suitabilityMaxRisk,
      languages: a.languages,
      maxConcurrent: a.maxConcurrent,
      shifts: a.available,
      behaviour: behaviourOf(history.fit.advisors.get(a.id) ?? history.fit.pooled),
      noShow: false,
    })),
    // Each request its own client, so a client's two requests of the window do not meet as one.
    arrivals: history.requests.map((r, i) => ({
      at: r.at,
      clientId: `cli_replay_${String(i).padStart(6, "0")}`,
      branchId: branch.id,
      requiredLicence: r.requiredLicence,
      riskLevel: r.riskLevel,
      language: r.language,
      dedicatedAdvisorId: r.dedicatedAdvisorId,
      patienceMs: r.patienceMs ?? PATIENT_MS,
    })),
  };
}

/** One policy's replay on its own record; its KPI totals over the window. */
async function replayOne(population: Population, policy: DispatchPolicy, to: number, seed: number, deadline: number): Promise<Kpis> {
  const database = await openReplayRecord();
  try {
    await writePopulation(database.prisma, population, policy);
    const put = { name: "replay", policy, incentives: false, ruleSet: null };
    await simulateDay(database.prisma, population, put, seed, undefined, () => {
      if (Date.now() > deadline) throw new ReplayTimedOut();
    });
    const branchId = population.branches[0]!.id;
    const result = await branchKpis(database.prisma, { branchId, from: new Date(population.dayStart), to: new Date(to), bucket: "day" });
    if (!result.ok) throw new Error(`replay KPIs: ${result.reason}`);
    return result.kpis.total;
  } finally {
    await database.close();
  }
}

/**
 * A window without requests, as branchKpis reports one: zero counts, no rates or percentiles, and
 * utilisation 0 when anyone was available (null when nobody was). Answered without loading two
 * records, so an empty window costs only the history's reads.
 */
function emptyWindowKpis(history: ReplayHistory): Kpis {
  const available = history.advisors.some((a) => a.available.length > 0);
  return { ...EMPTY_KPIS, utilisation: available ? 0 : null };
}

function availableSeconds(spans: Array<{ startMs: number; endMs: number }>): number {
  return Math.round(spans.reduce((s, x) => s + x.endMs - x.startMs, 0) / 1000);
}

/** The what-if: the window replayed under the current policy and the candidate (PolicyReplay in reporting/policyReplay.ts). */
export async function replayBranchPolicies(prisma: PrismaClient, input: PolicyReplayInput, limits: ReplayLimits = REPLAY_LIMITS): Promise<PolicyReplayResult> {
  const deadline = Date.now() + limits.timeoutMs;
  const current = await getBranchPolicy(prisma, input.branchId);
  if (!current) return { ok: false, reason: "UNKNOWN_BRANCH" };
  const history = await replayHistory(prisma, input.branchId, input.from.getTime(), input.to.getTime(), limits);
  if (!history) return { ok: false, reason: "UNKNOWN_BRANCH" };
  const population = populationOf(history);
  let currentKpis: Kpis;
  let candidateKpis: Kpis;
  try {
    if (history.requests.length === 0) {
      // Nothing arrives, so no policy decides anything: both sides are the empty window's figures.
      currentKpis = candidateKpis = emptyWindowKpis(history);
    } else {
      currentKpis = await replayOne(population, current.policy, history.to, input.seed, deadline);
      candidateKpis = await replayOne(population, input.candidate, history.to, input.seed, deadline);
    }
  } catch (error) {
    if (error instanceof ReplayTimedOut) {
      return { ok: false, reason: "TIMED_OUT", message: `the replay took longer than ${limits.timeoutMs / 1000} s; try a shorter window` };
    }
    throw error;
  }
  return {
    ok: true,
    answer: {
      branchId: input.branchId,
      window: { from: new Date(history.from).toISOString(), to: new Date(history.to).toISOString(), requests: history.requests.length },
      cutShort: history.cutShort,
      ...(history.cutReason ? { cutReason: history.cutReason } : {}),
      seed: input.seed,
      current: { version: current.version, policy: current.policy, kpis: currentKpis },
      candidate: { policy: input.candidate, kpis: candidateKpis },
      fitted: {
        from: new Date(history.fitFrom).toISOString(),
        to: new Date(history.to).toISOString(),
        pooled: history.fit.pooled,
        advisors: history.advisors.map((a) => ({ advisorId: a.id, availableSeconds: availableSeconds(a.available), ...history.fit.advisors.get(a.id)! })),
      },
      assumptions: REPLAY_ASSUMPTIONS,
    },
  };
}

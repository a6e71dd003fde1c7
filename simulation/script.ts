/**
 * A day given as a fixed script instead of a behaviour model: who is in the directory, when each
 * advisor's presence changes, when each client asks, and what happens to each request (the answer
 * to each of its offers by the offer's place, how long the conversation lasts, the rating, a cancel).
 * The engine still makes every decision (who is offered what, when a stage or the wait runs out);
 * the script only stands in for the people. Run by simulateDay (day.ts) with ScriptedBehaviour
 * (scriptedBehaviour.ts), and by a fidelity test on the real server, so both can be compared.
 */
import type { Presence } from "../matching/domain/types.ts";
import type { Arrival, Population, SimAdvisor, SimBranch } from "./population.ts";
import type { Behaviour } from "./scenario.ts";

/** The answer to one offer, `afterMs` after it reached the advisor; null or missing: no answer (it times out). */
export interface ScriptedAnswer {
  answer: "accept" | "decline";
  afterMs: number;
}

export interface ScriptedRequest extends Omit<Arrival, "patienceMs"> {
  /** Answers to the request's offers in the order they are sent (index 0 = the first offer). */
  answers: Array<ScriptedAnswer | null>;
  /** From the accept to the advisor completing; missing: the request stays assigned. */
  handleMs?: number;
  /** The client's rating, `afterMs` after completion (through the engine's rate, as the rating route does). */
  rating?: { stars: number; afterMs: number };
  /** The client cancels this long after asking, whatever state the request is in then (an ended one refuses). */
  cancelAfterMs?: number;
}

export interface ScriptedPresence {
  at: number;
  advisorId: string;
  presence: Presence;
}

export type ScriptedAdvisor = Pick<SimAdvisor, "id" | "branchId" | "region" | "licences" | "suitabilityMaxRisk" | "languages" | "maxConcurrent">;

export interface DayScript {
  /** The instant the day starts (heartbeats fall on a 20 s grid from it). */
  dayStart: number;
  branches: SimBranch[];
  advisors: ScriptedAdvisor[];
  /** Presence changes, as the advisors report them (a heartbeat is not a change). */
  presence: ScriptedPresence[];
  requests: ScriptedRequest[];
}

/** Never read: a scripted advisor does what the script says, not what a model draws. */
const NO_MODEL: Behaviour = {
  acceptProbability: 0,
  acceptByLoad: [1],
  declineShare: 0,
  thinkTime: { kind: "fixed", seconds: 0 },
  handleTime: { kind: "fixed", seconds: 0 },
  noShowRate: 0,
  incentiveResponse: { acceptUplift: 0, thinkTimeCut: 0 },
};

/** The script's cast as a Population, for writePopulation (records.ts) and the simulated day's records. */
export function populationOf(script: DayScript): Population {
  return {
    dayStart: script.dayStart,
    branches: script.branches,
    advisors: script.advisors.map((a) => ({ ...a, shifts: [], behaviour: NO_MODEL, noShow: false })),
    // Patience is the model's; a scripted client cancels only when the script says so.
    arrivals: script.requests.map(({ answers: _a, handleMs: _h, rating: _r, cancelAfterMs: _c, ...arrival }) => ({
      ...arrival,
      patienceMs: Number.POSITIVE_INFINITY,
    })),
  };
}

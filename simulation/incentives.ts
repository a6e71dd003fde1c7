/**
 * Incentives in a simulated day, by the production code: each branch gets the scenario's rule set
 * (activated as a manager would), and the incentive consumer (incentives/consumer.ts) folds the
 * recorded events and posts the awards every `EVERY_MS` of simulated time (the server's job runs
 * every few seconds; minutes here keep a day's runs few, and the ranking input it refreshes sums a
 * week of points, so a few minutes' delay barely moves it); it also feeds the ranking's incentive input (the flywheel). Its awards are the
 * KPIs' pointsPerCompleted. Only when the scenario asks (evaluateIncentives); a policy run with
 * incentives off gets no rule set, so no points.
 */
import type { ManualClock } from "../core/clock.ts";
import { createLogger } from "../core/logger.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { drainIncentives } from "../incentives/consumer.ts";
import { activateRuleSet, createDraft } from "../incentives/ruleSets.ts";
import type { RuleSet } from "../incentives/rules/schema.ts";
import type { MatchingStore } from "../matching/store/port.ts";

/** How often (simulated time) the consumer runs. */
export const EVERY_MS = 5 * 60_000;

/** The scenario's rule set when it gives none: points for a quick accept and for each completion. */
export const DEFAULT_SIMULATION_RULES: RuleSet = {
  rules: [
    { id: "quick-accept", on: "offer.accepted", when: { responseSecondsAtMost: 10 }, award: { points: 10 } },
    { id: "completed", on: "request.completed", award: { points: 5 } },
  ],
  budget: { points: 1_000_000, period: "week" },
};

export async function activateRules(prisma: PrismaClient, branchIds: string[], ruleSet: RuleSet, now: number): Promise<void> {
  for (const branchId of branchIds) {
    const draft = await createDraft(prisma, branchId, ruleSet, "simulation");
    const activated = await activateRuleSet(prisma, branchId, draft.version, "simulation", new Date(now));
    if (!activated.ok) throw new Error(`could not activate the simulation's rule set in ${branchId}`);
  }
}

/** One run of the consumer until it has caught up with the record. */
export function incentiveRunner(prisma: PrismaClient, store: MatchingStore, clock: ManualClock): () => Promise<void> {
  const logger = createLogger("silent");
  return async () => {
    await drainIncentives({ prisma, store, clock, logger });
  };
}

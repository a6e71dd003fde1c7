/**
 * Simulating a rule set over recorded events: the same fold as live evaluation, over the branch's
 * event log in a time range, writing nothing. Compared with the active version when there is one.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { compareSimulations, FOLDED_EVENT_TYPES, simulate, type EvaluableEvent, type SimulationComparison, type SimulationResult } from "./evaluate.ts";
import { activeRuleSet } from "./ruleSets.ts";
import { parseEvaluableEvent } from "./storedJson.ts";
import type { RuleSet } from "./rules/schema.ts";

export interface SimulationReport {
  draft: Omit<SimulationResult, "decisions" | "state">;
  active: (Omit<SimulationResult, "decisions" | "state"> & { version: number }) | null;
  difference: SimulationComparison | null;
  events: number;
}

export async function recordedEvents(prisma: PrismaClient, branchId: string, from: Date, to: Date): Promise<EvaluableEvent[]> {
  const rows = await prisma.eventLog.findMany({
    where: { branchId, type: { in: [...FOLDED_EVENT_TYPES] }, at: { gte: from, lt: to } },
    orderBy: { seq: "asc" },
    select: { data: true },
  });
  return rows.map((r) => parseEvaluableEvent(r.data));
}

export async function simulateRuleSet(
  prisma: PrismaClient,
  branchId: string,
  ruleSet: RuleSet,
  version: number,
  from: Date,
  to: Date,
): Promise<SimulationReport> {
  const branch = await prisma.branch.findUniqueOrThrow({ where: { id: branchId }, select: { timezone: true } });
  const events = await recordedEvents(prisma, branchId, from, to);
  const strip = ({ decisions: _d, state: _s, ...summary }: SimulationResult) => summary;
  const draft = simulate(events, ruleSet, { timezone: branch.timezone, ruleSetVersion: version });
  const current = await activeRuleSet(prisma, branchId);
  const active = current ? simulate(events, current.ruleSet, { timezone: branch.timezone, ruleSetVersion: current.version }) : null;
  return {
    draft: strip(draft),
    active: active && current ? { ...strip(active), version: current.version } : null,
    difference: active ? compareSimulations(draft, active) : null,
    events: events.length,
  };
}

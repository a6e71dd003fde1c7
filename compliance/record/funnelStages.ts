/**
 * The funnel stages a request went through, reconstructed from what was recorded. Pure: the caller
 * loads the rows.
 *
 * Every later stage is named by its `request.stage_changed` event. The first stage (index 0) has
 * no event: the request is created in it. Its pool comes from the most exact source available:
 * 1. "request": the request row, while no stage change was recorded (the row still names stage 0);
 * 2. "offer": an offer made in stage 0 (the offer row records the pool it was made in);
 * 3. "current_policy": otherwise (stage 0 passed without an offer, e.g. a client without a
 *    dedicated advisor), the branch's policy as it is now, which may differ from the one then.
 */
import type { Pool } from "../../matching/domain/types.ts";

export type StagePool = Pool | "queue";
export type FirstPoolSource = "request" | "offer" | "current_policy";

export interface FunnelStageEntry {
  stageIndex: number;
  pool: StagePool;
  startedAt: Date;
  /** Where the pool was read from: "event" for every stage after the first. */
  source: FirstPoolSource | "event";
}

export interface StageChange {
  stageIndex: number;
  stage: StagePool;
  at: Date;
}

export interface FirstStageFacts {
  createdAt: Date;
  /** The request row's current stage (null: in the queue). */
  currentStage: StagePool | null;
  /** The pool of any offer made with stageIndex 0. */
  firstOfferPool: Pool | null;
  /** Reads the branch's current policy's first pool; called only when nothing recorded names it. */
  currentPolicyFirstPool(): Promise<Pool>;
}

/** The stages in the order they were entered (changes must be in event-log order). */
export async function funnelStages(first: FirstStageFacts, changes: StageChange[]): Promise<FunnelStageEntry[]> {
  const start = await firstStage(first, changes.length > 0);
  return [start, ...changes.map((c) => ({ stageIndex: c.stageIndex, pool: c.stage, startedAt: c.at, source: "event" as const }))];
}

async function firstStage(first: FirstStageFacts, moved: boolean): Promise<FunnelStageEntry> {
  const base = { stageIndex: 0, startedAt: first.createdAt };
  if (!moved && first.currentStage) return { ...base, pool: first.currentStage, source: "request" };
  if (first.firstOfferPool) return { ...base, pool: first.firstOfferPool, source: "offer" };
  return { ...base, pool: await first.currentPolicyFirstPool(), source: "current_policy" };
}

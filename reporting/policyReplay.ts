/**
 * The policy what-if's contract (POST /v1/branches/:id/dispatch-policy/simulate): what the API asks
 * and what the replay answers. The replay is the day simulator's (simulation/replay.ts), which the
 * API may not import (it is a tool, .dependency-cruiser.cjs): the composition root hands it to the
 * routes as AppDeps.policyReplay, and the two meet on these types.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { DispatchPolicy } from "../matching/domain/policy.ts";
import type { FittedBehaviour } from "./behaviourFit.ts";
import type { Kpis } from "./kpis.ts";

/**
 * The bounds, from a measurement on the 2-core reference machine (README, "What-if"): a replay of
 * 2,000 requests of a 7-day window under two policies answers in a few seconds.
 */
export const REPLAY_LIMITS = { maxDays: 7, maxRequests: 2_000, timeoutMs: 20_000 };
export type ReplayLimits = typeof REPLAY_LIMITS;

export interface PolicyReplayInput {
  branchId: string;
  candidate: DispatchPolicy;
  from: Date;
  to: Date;
  seed: number;
}

export interface PolicyReplayAnswer {
  branchId: string;
  window: { from: string; to: string; requests: number };
  cutShort: boolean;
  cutReason?: string;
  seed: number;
  current: { version: number; policy: DispatchPolicy; kpis: Kpis };
  candidate: { policy: DispatchPolicy; kpis: Kpis };
  fitted: {
    /** The days of record the behaviour was fitted over (ending at the window's end). */
    from: string;
    to: string;
    pooled: FittedBehaviour;
    advisors: Array<FittedBehaviour & { advisorId: string; availableSeconds: number }>;
  };
  /** What the replay does not reproduce, in words. */
  assumptions: string[];
}

export type PolicyReplayResult =
  | { ok: true; answer: PolicyReplayAnswer }
  | { ok: false; reason: "UNKNOWN_BRANCH" }
  | { ok: false; reason: "TIMED_OUT"; message: string };

export type PolicyReplay = (prisma: PrismaClient, input: PolicyReplayInput, limits?: ReplayLimits) => Promise<PolicyReplayResult>;

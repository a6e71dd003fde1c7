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
 * The bounds, from a measurement on the 2-core machine while other work loaded it (load average
 * 5-6; bench/tmp/measureReplay.ts shape: 10 advisors, a 7-day window, two policies): a replay of
 * 0 requests takes 2.4 s (two records loaded and written), 500 requests 5.5 s, 1,000 7.7 s, 2,000
 * 13.5 s; the process's first replay adds about 4 s for the record template
 * (simulation/replayRecord.ts). So at most 1,000 requests, for an answer within seconds, and a
 * 30 s wall clock, which only a pathological window reaches.
 */
export const REPLAY_LIMITS = { maxDays: 7, maxRequests: 1_000, timeoutMs: 30_000 };
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

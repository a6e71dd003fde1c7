/**
 * The world the matching cycles (matchingCycles.ts) run in, shared by the matchingCore and
 * redisWork suites: a store with `advisors` bench advisors, all available, the cycles' context over
 * it, a seeded stream of requests, and the invariants check at the end.
 */
import { seededRandom } from "../../core/random.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import type { RequestFacts } from "../../matching/domain/types.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { CYCLES_PRESENCE_TTL_MS, type CycleContext } from "./matchingCycles.ts";
import { MatchingInvariants } from "./matchingInvariants.ts";
import { benchAdvisorId, benchRequest, populate } from "./population.ts";

export interface CycleWorld {
  ctx: CycleContext;
  /** The next request, from a stream seeded by the advisor count. */
  nextRequest(): RequestFacts;
  /** Throws when a request was assigned twice, an advisor went over capacity or a slot was kept. */
  verify(): Promise<{ requests: number; won: number }>;
}

export async function populateCycleWorld(store: MatchingStore, advisors: number, log: (line: string) => void): Promise<CycleWorld> {
  await populate(store, advisors, Date.now(), log, { allAvailable: true });
  const invariants = new MatchingInvariants();
  const ctx: CycleContext = { store, policy: DEFAULT_DISPATCH_POLICY, presenceTtlMs: CYCLES_PRESENCE_TTL_MS, now: Date.now, invariants };
  const random = seededRandom(advisors);
  let sequence = 0;
  return {
    ctx,
    nextRequest: () => benchRequest(sequence++, advisors, Date.now(), random),
    verify: () =>
      invariants.verify(
        store,
        Array.from({ length: advisors }, (_, i) => benchAdvisorId(i)),
      ),
  };
}

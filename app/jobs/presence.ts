/**
 * Presence expiry: an advisor whose client stopped sending heartbeats (crashed app, lost network)
 * never says goodbye. Eligibility already treats a heartbeat older than the presence TTL as
 * offline, but the advisor would stay in the candidate index and in the available count, so
 * lookups keep finding and rejecting them. This job sets such advisors offline.
 *
 * Each advisor is expired with store.expirePresence, which re-checks the heartbeat atomically: an
 * advisor whose heartbeat arrives between the lookup and the write stays online.
 *
 * Each expiry is a transition to offline for the presence history, dated when eligibility stopped
 * counting the advisor (last heartbeat + TTL), not when this job noticed, so utilisation's available
 * minutes do not depend on how often the job runs.
 */
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import { NO_PRESENCE_HISTORY, type PresenceHistory } from "../../matching/presenceHistory.ts";
import type { AdvisorState, MatchingStore } from "../../matching/store/port.ts";

/** Advisors per lookup, and lookups per run; what is left waits for the next run, seconds later. */
const BATCH = 500;
const MAX_BATCHES = 20;

export interface PresenceExpiryDeps {
  store: MatchingStore;
  clock: Clock;
  presenceTtlMs: number;
  /** Checked between batches: false stops the run (leadership lost, shutting down). */
  shouldContinue?: () => boolean;
  /** Where expiries go for reporting (none by default); a failed write is logged, the expiry stands. */
  presenceHistory?: PresenceHistory;
  logger?: Logger;
}

export async function expireLapsedPresence(deps: PresenceExpiryDeps): Promise<{ expired: number; refreshed: number }> {
  const shouldContinue = deps.shouldContinue ?? (() => true);
  // Eligibility counts a heartbeat as lapsed when its age is >= the TTL (heartbeatAt <= now - ttl);
  // times are whole milliseconds, so that is heartbeatAt < now - ttl + 1.
  const heartbeatBefore = deps.clock.now() - deps.presenceTtlMs + 1;
  let expired = 0;
  let refreshed = 0;
  for (let batch = 0; batch < MAX_BATCHES && shouldContinue(); batch++) {
    const ids = await deps.store.findLapsedAdvisors(heartbeatBefore, BATCH);
    const results = await Promise.all(ids.map((id) => deps.store.expirePresence(id, heartbeatBefore)));
    for (const result of results) {
      if (result.ok && !result.duplicate) {
        expired++;
        await recordExpiry(deps, result.advisor);
      } else if (!result.ok && result.reason === "NOT_DUE") refreshed++;
    }
    // Expired advisors leave the lookup, so the next one starts at the next oldest heartbeat.
    if (ids.length < BATCH) break;
  }
  return { expired, refreshed };
}

async function recordExpiry(deps: PresenceExpiryDeps, advisor: AdvisorState): Promise<void> {
  const { id: advisorId, branchId } = advisor.profile;
  // heartbeatAt 0 is "restored by a rebuild, never heard since": no better time than now.
  const lapsedAt = advisor.supply.heartbeatAt > 0 ? advisor.supply.heartbeatAt + deps.presenceTtlMs : deps.clock.now();
  const at = Math.min(lapsedAt, deps.clock.now());
  try {
    await (deps.presenceHistory ?? NO_PRESENCE_HISTORY).record({ advisorId, branchId, presence: "offline", at });
  } catch (error) {
    deps.logger?.error({ err: error, advisorId }, "presence history: the expiry was not recorded");
  }
}

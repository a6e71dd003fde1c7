/**
 * Presence expiry: an advisor whose client stopped sending heartbeats (crashed app, lost network)
 * never says goodbye. Eligibility already treats a heartbeat older than the presence TTL as
 * offline, but the advisor would stay in the candidate index and in the available count, so
 * lookups keep finding and rejecting them. This job sets such advisors offline.
 *
 * Each advisor is expired with store.expirePresence, which re-checks the heartbeat atomically: an
 * advisor whose heartbeat arrives between the lookup and the write stays online.
 */
import type { Clock } from "../../core/clock.ts";
import type { MatchingStore } from "../../matching/store/port.ts";

/** Advisors per lookup, and lookups per run; what is left waits for the next run, seconds later. */
const BATCH = 500;
const MAX_BATCHES = 20;

export interface PresenceExpiryDeps {
  store: MatchingStore;
  clock: Clock;
  presenceTtlMs: number;
  /** Checked between batches: false stops the run (leadership lost, shutting down). */
  shouldContinue?: () => boolean;
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
      if (result.ok && !result.duplicate) expired++;
      else if (!result.ok && result.reason === "NOT_DUE") refreshed++;
    }
    // Expired advisors leave the lookup, so the next one starts at the next oldest heartbeat.
    if (ids.length < BATCH) break;
  }
  return { expired, refreshed };
}

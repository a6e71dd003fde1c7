/**
 * Leader election for the scheduled jobs, on the matching store's named leases: whoever holds the
 * lease runs the jobs, and renews it every ttl/3; everybody else tries to take it at the same pace.
 * With REDIS_URL the lease is one Redis key shared by every process, so one process leads at a time;
 * with the in-memory store the only process always gets it.
 *
 * Safety: isLeader() is true only while the last successful acquire or renewal is younger than the
 * ttl, measured from when that call was sent (monotonic clock). So a leader whose renewals fail,
 * error or simply hang (Redis unreachable, event loop stalled) stops counting as leader no later
 * than the moment its lease can expire in Redis and another process can take it.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "../../core/logger.ts";
import type { MatchingStore } from "../../matching/store/port.ts";

export interface LeaderElection {
  /** The token this process holds the lease with (host:pid:uuid, so whoever leads is visible in Redis). */
  readonly token: string;
  /** True while this process holds the lease, renewed within the last ttl. */
  isLeader(): boolean;
  /** Runs the first round (so isLeader() is meaningful on return), then one round every ttl/3. */
  start(): Promise<void>;
  /** Stops the rounds and releases the lease if this process holds it. */
  stop(): Promise<void>;
}

export interface LeaderElectionOptions {
  store: Pick<MatchingStore, "acquireLease" | "renewLease" | "releaseLease">;
  logger: Logger;
  ttlMs: number;
  /** The lease's name (default "cron"). */
  name?: string;
}

export function createLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const { store, logger, ttlMs } = options;
  const name = options.name ?? "cron";
  const token = `${hostname()}:${process.pid}:${randomUUID()}`;
  const intervalMs = Math.max(1, Math.floor(ttlMs / 3));

  let leading = false;
  /** performance.now() until which the lease is certainly still ours. */
  let validUntil = 0;
  /**
   * True from a successful acquire until a renewal says the lease is gone. Survives a failed round
   * (an error tells us nothing), so the next round renews rather than waiting out our own lease.
   */
  let mayHold = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;

  const setLeading = (value: boolean, why: string) => {
    if (leading === value) return;
    leading = value;
    if (value) logger.info({ lease: name, holder: token }, "took the job lease: this process runs the scheduled jobs");
    else logger.warn({ lease: name, holder: token, why }, "no longer leading the scheduled jobs");
  };

  async function runRound(): Promise<void> {
    const sentAt = performance.now();
    try {
      let held = mayHold && (await store.renewLease(name, token, ttlMs));
      if (!held) {
        if (mayHold) setLeading(false, "the lease was lost before it could be renewed");
        mayHold = false;
        if (stopped) return;
        held = await store.acquireLease(name, token, ttlMs);
      }
      if (held) {
        mayHold = true;
        validUntil = sentAt + ttlMs;
        setLeading(true, "acquired");
      }
    } catch (error) {
      // We cannot know whether the lease is still ours: stop leading now, renew on the next round.
      validUntil = 0;
      setLeading(false, "the lease round failed");
      logger.error({ err: error, lease: name }, "job lease round failed");
    }
  }

  function scheduleNext(): void {
    if (stopped) return;
    // Chained rather than setInterval: rounds never overlap, and a hung round delays the next one
    // while isLeader() turns false on its own at validUntil.
    timer = setTimeout(() => {
      round = runRound().finally(() => {
        round = undefined;
        scheduleNext();
      });
    }, intervalMs);
    timer.unref();
  }

  return {
    token,
    isLeader: () => leading && performance.now() < validUntil,
    async start() {
      if (!stopped) return;
      stopped = false;
      round = runRound();
      await round;
      round = undefined;
      scheduleNext();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
      leading = false;
      validUntil = 0;
      if (mayHold) {
        mayHold = false;
        await store
          .releaseLease(name, token)
          .catch((error) => logger.error({ err: error, lease: name }, "releasing the job lease failed; it expires on its own"));
        logger.info({ lease: name, holder: token }, "released the job lease");
      }
    },
  };
}

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

/** The lease-based election: one round per third of the TTL, chained so rounds never overlap. */
class LeaseLeaderElection implements LeaderElection {
  readonly token = `${hostname()}:${process.pid}:${randomUUID()}`;
  private readonly name: string;
  private readonly intervalMs: number;
  private leading = false;
  /** performance.now() until which the lease is certainly still ours. */
  private validUntil = 0;
  /**
   * True from a successful acquire until a renewal says the lease is gone. Survives a failed round
   * (an error tells us nothing), so the next round renews rather than waiting out our own lease.
   */
  private mayHold = false;
  private stopped = true;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.name = options.name ?? "cron";
    this.intervalMs = Math.max(1, Math.floor(options.ttlMs / 3));
  }

  readonly isLeader = (): boolean => this.leading && performance.now() < this.validUntil;

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    this.round = this.runRound();
    await this.round;
    this.round = undefined;
    this.scheduleNext();
  }

  async stop(): Promise<void> {
    const { store, logger } = this.options;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    this.leading = false;
    this.validUntil = 0;
    if (this.mayHold) {
      this.mayHold = false;
      await store
        .releaseLease(this.name, this.token)
        .catch((error) => logger.error({ err: error, lease: this.name }, "releasing the job lease failed; it expires on its own"));
      logger.info({ lease: this.name, holder: this.token }, "released the job lease");
    }
  }

  private setLeading(value: boolean, why: string): void {
    if (this.leading === value) return;
    this.leading = value;
    const { logger } = this.options;
    if (value) logger.info({ lease: this.name, holder: this.token }, "took the job lease: this process runs the scheduled jobs");
    else logger.warn({ lease: this.name, holder: this.token, why }, "no longer leading the scheduled jobs");
  }

  private async runRound(): Promise<void> {
    const { store, logger, ttlMs } = this.options;
    const sentAt = performance.now();
    try {
      let held = this.mayHold && (await store.renewLease(this.name, this.token, ttlMs));
      if (!held) {
        if (this.mayHold) this.setLeading(false, "the lease was lost before it could be renewed");
        this.mayHold = false;
        if (this.stopped) return;
        held = await store.acquireLease(this.name, this.token, ttlMs);
      }
      if (held) {
        this.mayHold = true;
        this.validUntil = sentAt + ttlMs;
        this.setLeading(true, "acquired");
      }
    } catch (error) {
      // We cannot know whether the lease is still ours: stop leading now, renew on the next round.
      this.validUntil = 0;
      this.setLeading(false, "the lease round failed");
      logger.error({ err: error, lease: this.name }, "job lease round failed");
    }
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    // Chained rather than setInterval: rounds never overlap, and a hung round delays the next one
    // while isLeader() turns false on its own at validUntil.
    this.timer = setTimeout(() => {
      this.round = this.runRound().finally(() => {
        this.round = undefined;
        this.scheduleNext();
      });
    }, this.intervalMs);
    this.timer.unref();
  }
}

export function createLeaderElection(options: LeaderElectionOptions): LeaderElection {
  return new LeaseLeaderElection(options);
}

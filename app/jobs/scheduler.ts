/**
 * The scheduled jobs of a server process (node-cron), run only by the process that holds the job
 * lease (leader.ts):
 *
 *   presence-expiry   every 5 s    advisors whose heartbeat lapsed go offline (presence.ts)
 *   licence-expiry    every minute open offers to advisors who lost the licence are withdrawn (licences.ts)
 *   deadline-sweep    every 10 s   engine.tick: a safety net under the per-process 250 ms sweeper
 *   offboarding-sweep every 30 s   finishes offboardings whose live phase was interrupted (offboarding.ts)
 *   reconcile         every 5 s    repairs records that trail the live store (matching/engine/reconciler.ts)
 *   reconcile-supply  every 30 s   releases capacity slots an interrupted accept or offer left held for nothing
 *   incentive-settlement  hourly at :05  each branch's last closed local week is settled (incentives/settlement.ts)
 *
 * Every process schedules every job and each run first asks whether this process leads, so a new
 * leader takes over at the next tick without any hand-over. A job never overlaps itself (a run that
 * is still going makes the next tick a no-op), logs its duration at debug and its failure at error,
 * and long jobs stop between steps once leadership is lost.
 */
import cron, { type ScheduledTask } from "node-cron";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import { settleDueBranches } from "../../incentives/settlement.ts";
import type { MatchingEngine } from "../../matching/engine/engine.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import type { PrismaClient } from "../../platform/database.ts";
import { drainIncentives } from "../../incentives/consumer.ts";
import { auditJobs } from "../../compliance/audit/jobs.ts";
import { createLeaderElection } from "./leader.ts";
import { withdrawUnlicensedOffers } from "../../directory/licenceEnforcement.ts";
import { finishPendingOffboardings } from "./offboarding.ts";
import { createPrismaPresenceHistory } from "../../reporting/presenceHistory.ts";
import { expireLapsedPresence } from "./presence.ts";

/** Default job lease: a dead leader's jobs resume elsewhere within this. */
const DEFAULT_LEASE_TTL_MS = 15_000;
/** How many due requests the safety-net sweep handles per run. */
const SWEEP_LIMIT = 1_000;

export interface JobsDeps {
  engine: MatchingEngine;
  store: MatchingStore;
  prisma: PrismaClient;
  logger: Logger;
  clock: Clock;
  presenceTtlMs: number;
  /** The job lease's time to live (default 15 s); renewed every third of it. */
  leaseTtlMs?: number;
  /** Seconds between incentive evaluation runs (a divisor of 60); 0 turns it off on this process. */
  incentiveEvaluationSeconds?: number;
  /** Audit retention in days (default 2190). */
  auditRetentionDays?: number;
}

export interface Jobs {
  /** Stops scheduling, waits for runs in progress, and releases the job lease. */
  stop(): Promise<void>;
  isLeader(): boolean;
}

interface Job {
  name: string;
  /** node-cron expression, with seconds. */
  schedule: string;
  run(shouldContinue: () => boolean): Promise<Record<string, unknown>>;
}

/** The scheduled jobs, in the order they are registered (the leader runs each at its schedule). */
function scheduledJobs(deps: JobsDeps, logger: Logger): Job[] {
  return [
    {
      name: "presence-expiry",
      schedule: "*/5 * * * * *",
      run: (go) =>
        expireLapsedPresence({
          store: deps.store,
          clock: deps.clock,
          presenceTtlMs: deps.presenceTtlMs,
          shouldContinue: go,
          presenceHistory: createPrismaPresenceHistory(deps.prisma),
          logger,
        }),
    },
    {
      name: "reconcile",
      schedule: "*/5 * * * * *",
      run: async (go) => ({ ...(await deps.engine.reconcile({ shouldContinue: go })) }),
    },
    {
      name: "reconcile-supply",
      schedule: "*/30 * * * * *",
      run: async (go) => ({ ...(await deps.engine.reconcileSupply({ shouldContinue: go })) }),
    },
    {
      name: "licence-expiry",
      schedule: "0 * * * * *",
      run: (go) => withdrawUnlicensedOffers({ engine: deps.engine, prisma: deps.prisma, clock: deps.clock, shouldContinue: go }),
    },
    {
      name: "deadline-sweep",
      schedule: "*/10 * * * * *",
      run: async () => ({ handled: await deps.engine.tick(SWEEP_LIMIT) }),
    },
    {
      name: "offboarding-sweep",
      schedule: "*/30 * * * * *",
      run: (go) => finishPendingOffboardings({ engine: deps.engine, prisma: deps.prisma, clock: deps.clock, shouldContinue: go }),
    },
    {
      // Hourly, not weekly: branches' weeks close at different UTC hours, and a run that waited for
      // evaluation or failed is retried an hour later. Settled periods cost one lookup per branch.
      name: "incentive-settlement",
      schedule: "0 5 * * * *",
      run: (go) => settleDueBranches(deps.prisma, { now: deps.clock.now(), logger, shouldContinue: go }),
    },
    ...((deps.incentiveEvaluationSeconds ?? 2) > 0
      ? [
          {
            name: "incentive-evaluation",
            schedule: `*/${deps.incentiveEvaluationSeconds ?? 2} * * * * *`,
            run: async () => ({ ...(await drainIncentives({ prisma: deps.prisma, store: deps.store, clock: deps.clock, logger })) }),
          },
        ]
      : []),
    ...auditJobs({ prisma: deps.prisma, clock: deps.clock, retentionDays: deps.auditRetentionDays ?? 2190 }),
  ];
}

export function startJobs(deps: JobsDeps): Jobs {
  const logger = deps.logger.child({ component: "jobs" });
  const leader = createLeaderElection({ store: deps.store, logger, ttlMs: deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS });
  let stopping = false;
  const shouldContinue = () => !stopping && leader.isLeader();

  const jobs = scheduledJobs(deps, logger);

  const inFlight = new Map<string, Promise<void>>();

  function runJob(job: Job): Promise<void> {
    if (!shouldContinue() || inFlight.has(job.name)) return Promise.resolve();
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    const run = job
      .run(shouldContinue)
      .then(
        (result) => logger.debug({ job: job.name, durationMs: elapsed(), ...result }, "job finished"),
        (error: unknown) => logger.error({ err: error, job: job.name, durationMs: elapsed() }, "job failed"),
      )
      .finally(() => inFlight.delete(job.name));
    inFlight.set(job.name, run);
    return run;
  }

  // node-cron's own messages (missed ticks under load) go to our logger.
  const cronLogger = {
    info: (message: string) => logger.debug({ source: "node-cron" }, message),
    warn: (message: string) => logger.warn({ source: "node-cron" }, message),
    error: (message: string | Error, err?: Error) => logger.error({ source: "node-cron", err: err ?? message }, String(message)),
    debug: (message: string | Error) => logger.debug({ source: "node-cron" }, String(message)),
  };
  const tasks: ScheduledTask[] = jobs.map((job) =>
    // unref: the jobs alone never keep a process alive (the HTTP server does).
    cron.schedule(job.schedule, () => runJob(job), { name: `advisor-dispatch:${job.name}`, logger: cronLogger, unref: true }),
  );

  const started = leader.start().catch((error: unknown) => logger.error({ err: error }, "job leader election failed to start"));

  return {
    isLeader: () => leader.isLeader(),
    async stop() {
      stopping = true;
      await Promise.all(tasks.map((task) => task.destroy()));
      await started;
      await Promise.all(inFlight.values());
      await leader.stop();
    },
  };
}

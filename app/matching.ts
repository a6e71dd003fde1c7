/**
 * Composes the matching engine for a server process: the store adapter the backends call for
 * (Redis when REDIS_URL is set, otherwise in memory), the PostgreSQL records, the event bus and the
 * deadline sweeper.
 */
import type { MatchingRuntime } from "../matching/runtime.ts";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { systemClock, type Clock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import { MatchingEngine } from "../matching/engine/engine.ts";
import { DeadlineSweeper } from "../matching/engine/sweeper.ts";
import { EventBus } from "../matching/events.ts";
import { createMemoryJournal } from "../matching/journal/memory.ts";
import { Persister } from "../matching/journal/persister.ts";
import { journalRecorder } from "../matching/journal/recorder.ts";
import { createRedisJournal } from "../matching/journal/redis.ts";
import { createPrismaMatchingRecords } from "../matching/records/prisma.ts";
import { createPrismaPresenceHistory } from "../reporting/presenceHistory.ts";
import { createMemoryMatchingStore } from "../matching/store/memory/store.ts";
import { createRedisMatchingStore } from "../matching/store/redis/store.ts";
import type { Backends } from "../platform/backends.ts";
import { classifyUnavailable } from "../platform/unavailable.ts";

/** How often each process checks the live state: rebuilds it when lost, re-applies presences after a rebuild. */
const LIVE_STATE_CHECK_MS = 1_000;

const PRESENCE_TTL_MS = 45_000;
/** How long a decision waits for its record before answering anyway (the record follows). */
const RECORD_WAIT_MS = 3_000;
/**
 * Backpressure defaults (JOURNAL_MAX_LAG_ENTRIES, JOURNAL_MAX_LAG_MS): new requests get 503 while
 * more entries than this wait to be persisted, or the oldest has waited longer than this.
 */
const MAX_LAG_ENTRIES = 5_000;
/** Tries (one a second) at replacing the live state after a failover before giving up with an error line. */
const FAILOVER_RECOVERY_ATTEMPTS = 120;
const MAX_LAG_MS = 5_000;

export async function createMatchingRuntime(
  backends: Backends,
  logger: Logger,
  options: { redisPrefix?: string; clock?: Clock; journal?: { maxLagEntries: number; maxLagMs: number } } = {},
): Promise<MatchingRuntime> {
  const clock = options.clock ?? systemClock;
  const store = backends.redis
    ? createRedisMatchingStore(backends.redis.client, { prefix: options.redisPrefix, journal: true, tracking: backends.redis.tracking })
    : createMemoryMatchingStore();
  const bus = new EventBus((error, event) => logger.error({ err: error, event: event.type, requestId: event.requestId }, "event subscriber failed"));
  const records = createPrismaMatchingRecords(backends.database);
  const journal = backends.redis ? await createRedisJournal(backends.redis.client, { prefix: options.redisPrefix ?? "adx:" }) : createMemoryJournal();
  const persister = journalPersister(journal, records, logger);
  await persister.start();
  const engine = new MatchingEngine({
    store,
    records,
    recorder: journalRecorder({
      journal,
      persister,
      waitMs: RECORD_WAIT_MS,
      maxLagEntries: options.journal?.maxLagEntries ?? MAX_LAG_ENTRIES,
      maxLagMs: options.journal?.maxLagMs ?? MAX_LAG_MS,
    }),
    bus,
    clock,
    presenceTtlMs: PRESENCE_TTL_MS,
    presenceHistory: createPrismaPresenceHistory(backends.database.prisma),
    onError: (error, context) => logger.error({ err: error, context }, "matching step failed; it will be retried"),
    // Every decision that survived in the journal reaches PostgreSQL before the rebuild reads it.
    beforeRebuild: () => persister.drainAll(),
  });
  const sweeper = new DeadlineSweeper(engine, 250, (error) => logger.error({ err: error }, "deadline sweep failed"));

  let checking: Promise<void> | null = null;
  const ensureLiveState = () =>
    // One check at a time: a rebuild can outlast the interval.
    (checking ??= (async () => {
      try {
        const rebuilt = await engine.ensureLiveState();
        if (rebuilt) logger.info(rebuilt, "rebuilt the live matching state from the database");
      } finally {
        checking = null;
      }
    })());
  await ensureLiveState();

  wireFailoverRecovery(backends, engine, logger);

  // Redis can lose its data (a restart without persistence, a failover, a flush): notice within a
  // second and rebuild from PostgreSQL (decisions get 503 meanwhile); every process re-applies the
  // presences reported to it once it sees the new generation.
  let watchdog: NodeJS.Timeout | undefined;
  return {
    engine,
    records,
    bus,
    store,
    clock,
    presenceTtlMs: PRESENCE_TTL_MS,
    journal,
    persister,
    start() {
      sweeper.start();
      watchdog = setInterval(() => ensureLiveState().catch((error) => logger.error({ err: error }, "live state check failed")), LIVE_STATE_CHECK_MS);
      watchdog.unref();
    },
    async stop() {
      clearInterval(watchdog);
      await sweeper.stop();
      // What this process decided is persisted before it goes, when the database allows.
      await persister.drainOnce().catch((error) => logger.warn({ err: error }, "journal not drained at shutdown; another process will persist it"));
      await persister.stop();
      await journal.close();
    },
  };
}

/** The persister of this process's journal into the records, under a consumer name of its own. */
function journalPersister(
  journal: ConstructorParameters<typeof Persister>[0]["journal"],
  records: ReturnType<typeof createPrismaMatchingRecords>,
  logger: Logger,
): Persister {
  return new Persister({
    journal,
    apply: (decisions) => records.applyJournal(decisions),
    consumer: `${os.hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`,
    // The one classifier of "a backing service is unavailable": retried, never set aside.
    isTransient: (error) => classifyUnavailable(error) !== null,
    onError: (error, context, detail) => logger.error({ err: error, ...(detail ? { detail } : {}) }, context),
  });
}

/**
 * A Sentinel failover can lose the old master's last writes (replication is asynchronous): the live
 * state is replaced from PostgreSQL, once across processes (MatchingEngine.recoverAfterFailover),
 * retried each second while another process holds the rebuild lease or a dependency is down.
 */
function wireFailoverRecovery(backends: Backends, engine: MatchingEngine, logger: Logger): void {
  backends.redis?.onMasterSwitch?.(() => {
    const before = engine.knownLiveGeneration;
    void (async () => {
      for (let attempt = 0; attempt < FAILOVER_RECOVERY_ATTEMPTS; attempt++) {
        try {
          const outcome = await engine.recoverAfterFailover(before);
          if (outcome !== "pending") {
            if (outcome) logger.warn(outcome, "rebuilt the live matching state from the database after a Redis failover");
            return;
          }
        } catch (error) {
          logger.error({ err: error }, "live state recovery after a Redis failover failed; retrying");
        }
        await new Promise((resolve) => setTimeout(resolve, LIVE_STATE_CHECK_MS));
      }
      logger.error("live state recovery after a Redis failover gave up; run the reconciler (check:consistency) to confirm the stores agree");
    })();
  });
}

/**
 * The composition of storage backends for one server process:
 * - no DATABASE_URL: embedded PGlite in DATA_DIR, migrated automatically at start;
 * - DATABASE_URL: PostgreSQL, which must already be migrated (`npm run db:migrate`);
 * - no REDIS_URL: the in-memory matching store (one process only);
 * - REDIS_URL: Redis, shared by every server process;
 * - REDIS_SENTINELS + REDIS_SENTINEL_MASTER: the same, on the master the Sentinels name, followed
 *   across failovers (platform/redisSentinel.ts).
 */
import path from "node:path";
import { redactUrl, type Config } from "../core/config.ts";
import type { Logger } from "../core/logger.ts";
import { applyMigrations, committedMigrationNames, pendingMigrations } from "../prisma/tools/migrations.ts";
import { openPglite, openPostgres, type Database } from "./database.ts";
import { connectRedis, type RedisHandle, type RedisOptions } from "./redis.ts";
import { connectRedisSentinel, type SentinelOptions } from "./redisSentinel.ts";

export interface Backends {
  database: Database;
  /** Present when REDIS_URL or the Sentinel variables are set. */
  redis?: RedisHandle;
  matchingStore: "redis" | "memory";
  committedMigrations: string[];
  close(): Promise<void>;
}

/** Why the server cannot start, in one line a user can act on; `cause` keeps the detail (logged at debug). */
export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * One line of an error's message: a driver's own last line ("Can't reach database server at …"),
 * not Prisma's multi-line invocation banner.
 */
export function briefly(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const last = lines.at(-1) ?? "unknown error";
  return /Message: `(.+)`/.exec(last)?.[1] ?? last;
}

export async function openBackends(config: Config, logger: Logger): Promise<Backends> {
  const committedMigrations = await committedMigrationNames();
  const database = config.databaseUrl ? await openPostgres(config.databaseUrl, config.database) : await openPglite(path.resolve(config.dataDir));
  let redis: RedisHandle | undefined;
  try {
    await database.ping().catch((error: unknown) => {
      throw new StartupError(`cannot reach the database at ${database.location}: ${briefly(error)}`, { cause: error });
    });
    if (database.kind === "pglite") {
      const applied = await applyMigrations(database.migrationAdapter);
      if (applied.length) logger.info({ applied }, "applied migrations to the embedded database");
    } else {
      const pending = await pendingMigrations(database.prisma, committedMigrations);
      if (pending.length) {
        throw new StartupError(
          `the database at ${database.location} has ${pending.length} pending migration(s) (${pending.join(", ")}); ` +
            "run `npm run db:migrate` with the same DATABASE_URL, then start again",
        );
      }
    }
    if (config.redisUrl || config.redisSentinel) {
      // Until the first connection, a failed attempt is expected (the start gives up with one line
      // after its timeout): each is a debug line. After it, a lost connection is an error.
      let connected = false;
      const onError = (error: Error) =>
        connected ? logger.error({ err: error }, "redis connection error") : logger.debug({ err: error }, "redis not reachable yet");
      const onSwitch = (from: string, to: string) => logger.warn({ from, to, master: config.redisSentinel?.masterName }, "redis: following the new master");
      redis = await connectConfiguredRedis(config, onError, { timeoutMs: config.redis.timeoutMs, onSwitch }).catch((error: unknown) => {
        throw new StartupError(`cannot reach Redis at ${redisLocation(config)}: ${briefly(error)}`, { cause: error });
      });
      connected = true;
    }
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }

  const matchingStore = redis ? "redis" : "memory";
  logger.info(
    { database: { kind: database.kind, location: database.location }, redis: redis?.location ?? null, matchingStore },
    `backends: ${database.kind === "pglite" ? "embedded PGlite" : "PostgreSQL"} + ${redis ? "Redis" : "in-memory matching store"}`,
  );
  if (database.kind === "postgres" && !redis) {
    logger.warn("PostgreSQL without REDIS_URL: the in-memory matching store serves one process only; set REDIS_URL to run several");
  }

  return {
    database,
    redis,
    matchingStore,
    committedMigrations,
    async close() {
      await redis?.close().catch((error) => logger.error({ err: error }, "closing redis failed"));
      await database.close().catch((error) => logger.error({ err: error }, "closing the database failed"));
    },
  };
}

/** Redis as configured: REDIS_URL, or the master the Sentinels name (followed across failovers). */
export function connectConfiguredRedis(config: Config, onError: (error: Error) => void, options: RedisOptions & SentinelOptions = {}): Promise<RedisHandle> {
  if (config.redisSentinel) return connectRedisSentinel(config.redisSentinel, onError, options);
  if (config.redisUrl) return connectRedis(config.redisUrl, onError, options);
  return Promise.reject(new Error("no Redis configured: set REDIS_URL, or REDIS_SENTINELS and REDIS_SENTINEL_MASTER"));
}

/** Where Redis is, safe to log (no password). */
export function redisLocation(config: Config): string {
  if (config.redisSentinel)
    return `the master ${config.redisSentinel.masterName} of Sentinels ${config.redisSentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}`;
  return config.redisUrl ? redactUrl(config.redisUrl) : "(not configured)";
}

export interface ReadinessReport {
  ready: boolean;
  checks: { database: string; redis: string; migrations: string };
}

/** A readiness probe answers within this, whatever a stalled dependency does. */
export const READINESS_TIMEOUT_MS = 1_500;

class ProbeTimeout extends Error {}

function withinTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A short reason for an operator, never library text (which can name queries and internals): the
 * detail goes to the log instead.
 */
export function shortReason(error: unknown): string {
  if (error instanceof ProbeTimeout) return "timed out";
  const text = error instanceof Error ? `${error.name} ${error.message} ${(error as { code?: unknown }).code ?? ""}` : String(error);
  if (/ECONNREFUSED/i.test(text)) return "connection refused";
  if (/Can't reach database|DatabaseNotReachable|P1001/i.test(text)) return "cannot connect";
  if (/ETIMEDOUT|timeout|timed out/i.test(text)) return "timed out";
  if (/ENOTFOUND|EAI_AGAIN/i.test(text)) return "host not found";
  if (/authentication|password|NOAUTH|WRONGPASS|28P01|28000/i.test(text)) return "authentication failed";
  if (/ECONNRESET|terminated|closed|EPIPE|offline/i.test(text)) return "connection lost";
  return "error";
}

/** What /readyz reports: each dependency reachable, and no migration pending, within READINESS_TIMEOUT_MS. */
export async function checkReadiness(backends: Backends, logger?: Logger): Promise<ReadinessReport> {
  const probe = <T>(dependency: string, work: () => Promise<T>, onOk: (value: T) => string, failed: string) =>
    withinTimeout(Promise.resolve().then(work), READINESS_TIMEOUT_MS).then(onOk, (error) => {
      logger?.warn({ err: error, dependency }, "readiness check failed");
      return `${failed}: ${shortReason(error)}`;
    });
  const [database, redis, migrations] = await Promise.all([
    probe(
      "database",
      () => backends.database.ping(),
      () => "ok",
      "unreachable",
    ),
    backends.redis
      ? probe(
          "redis",
          () => backends.redis!.ping(),
          () => "ok",
          "unreachable",
        )
      : Promise.resolve("not configured"),
    probe(
      "migrations",
      () => pendingMigrations(backends.database.prisma, backends.committedMigrations),
      (pending) => (pending.length ? `${pending.length} pending` : "ok"),
      "unknown",
    ),
  ]);
  return { ready: database === "ok" && migrations === "ok" && (redis === "ok" || redis === "not configured"), checks: { database, redis, migrations } };
}

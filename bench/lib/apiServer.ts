/**
 * Our API as production runs it (PostgreSQL + Redis), in a child process with a scratch database and
 * a Redis prefix of its own, configured for load: rate limits out of the way, quiet logs. `close()`
 * removes all of it; a failure half-way through start-up removes what was made so far.
 */
import type { BenchContext } from "./harness.ts";
import { deleteRedisPrefix, uniqueRedisPrefix } from "./redisPrefix.ts";
import { createScratchDatabase, type ScratchDatabase } from "./scratchDatabase.ts";
import { startServerProcess, type ServerProcess } from "./serverProcess.ts";
import { BENCH_JWT_SECRET } from "./tokens.ts";

export interface BenchApiServer {
  baseUrl: string;
  process: ServerProcess;
  databaseUrl: string;
  redisPrefix: string;
  /** Stops the server, drops its database and deletes its Redis keys; never throws, safe twice. */
  close(): Promise<void>;
}

export interface BenchApiOptions {
  /** Names the Redis prefix, e.g. the suite's name. */
  label: string;
  /** Extra or overriding environment, e.g. { INCENTIVE_EVALUATION_SECONDS: "0" }. */
  env?: Record<string, string>;
  /** Extra node flags for the server (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export async function startBenchApi(context: BenchContext, options: BenchApiOptions): Promise<BenchApiServer> {
  const redisPrefix = uniqueRedisPrefix(options.label);
  let database: ScratchDatabase | undefined;
  let server: ServerProcess | undefined;
  const close = async () => {
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => server?.stop(),
      () => database?.drop(),
      () => deleteRedisPrefix(context.redisUrl, redisPrefix),
    ];
    for (const step of steps) {
      // Every step runs even when an earlier one fails: a leftover database is worse than a log line.
      await Promise.resolve()
        .then(step)
        .catch((error) => context.log(`cleanup of ${options.label} server failed: ${(error as Error).message}`));
    }
  };
  try {
    database = await createScratchDatabase(context.databaseUrl);
    server = await startServerProcess({
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: context.redisUrl,
        REDIS_PREFIX: redisPrefix,
        JWT_SECRET: BENCH_JWT_SECRET,
        NODE_ENV: "production",
        LOG_LEVEL: "warn",
        // The bench drives thousands of requests through a few principals in a minute.
        RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
        RATE_LIMIT_ACCEPTS_PER_MINUTE: "100000000",
        ...options.env,
      },
      nodeArgs: options.nodeArgs,
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { baseUrl: server.baseUrl, process: server, databaseUrl: database.url, redisPrefix, close };
}

/**
 * What the counting preload (countCallsPreload.ts, inside our API's process) and the bench
 * (callCounts.ts) agree on: where the counts go, which signal asks for them, and their shape.
 */

/** Environment variable naming the file the preload writes its counts to. */
export const CALL_COUNTS_FILE_ENV = "BENCH_CALL_COUNTS_FILE";

/** Sent to the server process to have it write its counts so far (it has no other use for it). */
export const CALL_COUNTS_SIGNAL = "SIGUSR2";

/** Running totals since the process started. */
export interface CallCounts {
  /** Which request for counts this answers (1, 2, ...), so the reader knows the file is fresh. */
  seq: number;
  /** Statements sent to PostgreSQL, by their first keyword (SELECT, INSERT, BEGIN, COMMIT, ...). */
  pgStatements: Record<string, number>;
  /** Commands sent to Redis, by name (EVALSHA, GET, PUBLISH, ...). */
  redisCommands: Record<string, number>;
  /** EVALSHA calls by script SHA1. */
  redisScripts: Record<string, number>;
}

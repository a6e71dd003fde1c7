/**
 * The servers' own counters, read before and after a phase, as a cross-check of what our process
 * counted sending (callCounts.ts). Both are approximate, each for its own reason:
 * - pg_stat_database of our scratch database: transactions (an autocommit statement is one, a
 *   Prisma $transaction batch is one) and rows; backends report them up to about a second late.
 * - INFO commandstats of Redis: commands Redis executed, which include the commands Lua scripts run
 *   inside an EVALSHA, and everything any other client of this shared Redis did meanwhile.
 */
import pg from "pg";
import { createClient } from "redis";

const PG_COUNTERS = ["xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted"] as const;

/** Cumulative pg_stat_database counters of the database `databaseUrl` names. */
export async function readPgDatabaseCounters(databaseUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT ${PG_COUNTERS.join(", ")} FROM pg_stat_database WHERE datname = current_database()`);
    return Object.fromEntries(PG_COUNTERS.map((name) => [name, Number(rows[0]?.[name] ?? 0)]));
  } finally {
    await client.end();
  }
}

/** Cumulative calls per command from INFO commandstats ("evalsha", "get", "zadd", ...). */
export async function readRedisCommandstats(redisUrl: string): Promise<Record<string, number>> {
  const client = createClient({ url: redisUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    const info = await client.info("commandstats");
    const calls: Record<string, number> = {};
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
    return calls;
  } finally {
    await client.quit();
  }
}

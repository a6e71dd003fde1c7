/**
 * Private PostgreSQL databases for one benchmark run, on the server the bench context names: a
 * server process sweeps and rebuilds from its whole database, so it must not share one with
 * anything else, and a baseline gets a clean table with no other writers.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openPostgres } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops the database, disconnecting anyone still on it. Safe to call twice. */
  drop(): Promise<void>;
}

async function asAdmin<T>(serverUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * Creates `adx_bench_<random>` on the server of `serverUrl` (any database on it will do for the
 * CREATE), migrated to the current schema unless `migrate` is false (a bare baseline database).
 */
export async function createScratchDatabase(serverUrl: string, options: { migrate?: boolean } = {}): Promise<ScratchDatabase> {
  const name = `adx_bench_${randomBytes(5).toString("hex")}`;
  await asAdmin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const drop = () => asAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined);
  if (options.migrate !== false) {
    try {
      const database = await openPostgres(url.toString(), { poolSize: 2 });
      try {
        await applyMigrations(database.migrationAdapter);
      } finally {
        await database.close();
      }
    } catch (error) {
      await drop();
      throw error;
    }
  }
  return { name, url: url.toString(), drop };
}

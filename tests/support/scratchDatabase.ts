/**
 * Private, migrated PostgreSQL databases for tests that must see a whole database: a rebuild reads
 * every live request, and a server process sweeps every due one, so they must not share the test
 * database with suites running alongside. Dropped afterwards.
 */
import pg from "pg";
import { openPostgres, type Database } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { TEST_DATABASE_URL, uniqueTag } from "./services.ts";

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(options: { migrate?: boolean } = {}): Promise<ScratchDatabase> {
  const name = `adx_scratch_${uniqueTag()}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  if (options.migrate !== false) {
    const database = await openPostgres(url.toString(), { poolSize: 2 });
    try {
      await applyMigrations(database.migrationAdapter);
    } finally {
      await database.close();
    }
  }
  return { url: url.toString(), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

export async function openScratchPostgres(): Promise<Database> {
  const scratch = await createScratchDatabase();
  const database = await openPostgres(scratch.url, { poolSize: 5 });
  return {
    ...database,
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

/**
 * A private, migrated PostgreSQL database for tests that must see the whole database (rebuild reads
 * every live request), dropped afterwards.
 */
import pg from "pg";
import { openPostgres, type Database } from "../../infra/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { TEST_DATABASE_URL, uniqueTag } from "./services.ts";

export async function openScratchPostgres(): Promise<Database> {
  const name = `adx_scratch_${uniqueTag()}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString(), { poolSize: 5 });
  await applyMigrations(database.migrationAdapter);
  return {
    ...database,
    async close() {
      await database.close();
      const cleanup = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

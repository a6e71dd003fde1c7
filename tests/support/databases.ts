/** Opens each relational backend the contract suites run against. */
import { openPglite, openPostgres, type Database } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { TEST_DATABASE_URL } from "./services.ts";

/** A fresh in-memory PGlite with every migration applied (the embedded path). */
export async function openMigratedPglite(): Promise<Database> {
  const database = await openPglite();
  await applyMigrations(database.migrationAdapter);
  return database;
}

/** The shared PostgreSQL test database, migrated by globalSetup. Isolate by random ids. */
export async function openTestPostgres(): Promise<Database> {
  return openPostgres(TEST_DATABASE_URL, { poolSize: 5 });
}

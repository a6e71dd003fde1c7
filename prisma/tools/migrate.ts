/**
 * `npm run db:migrate`: applies committed migrations to DATABASE_URL, or to the embedded PGlite in
 * DATA_DIR when DATABASE_URL is unset. The production server never migrates by itself.
 */
import path from "node:path";
import { ConfigError, loadConfig } from "../../core/config.ts";
import { openPglite, openPostgres } from "../../platform/database.ts";
import { applyMigrations, committedMigrationNames, pendingMigrations } from "./migrations.ts";

try {
  const config = loadConfig();
  const database = config.databaseUrl ? await openPostgres(config.databaseUrl, { poolSize: 2 }) : await openPglite(path.resolve(config.dataDir));
  try {
    const pending = await pendingMigrations(database.prisma, await committedMigrationNames());
    console.log(`${database.kind} at ${database.location}: ${pending.length} pending migration(s)${pending.length ? `: ${pending.join(", ")}` : ""}`);
    if (pending.length) {
      const applied = await applyMigrations(database.migrationAdapter);
      console.log(`applied ${applied.length}: ${applied.join(", ") || "(none)"}`);
    }
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

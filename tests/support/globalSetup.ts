/** Once per run: bring the shared test database up to the committed migrations. */
import { openPostgres } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { probePostgres, TEST_DATABASE_URL } from "./services.ts";

export default async function setup(): Promise<void> {
  if ((await probePostgres()) !== null) return; // the suites that need it report why
  const database = await openPostgres(TEST_DATABASE_URL, { poolSize: 2 });
  try {
    const applied = await applyMigrations(database.migrationAdapter);
    if (applied.length) console.log(`[globalSetup] applied to the test database: ${applied.join(", ")}`);
  } finally {
    await database.close();
  }
}

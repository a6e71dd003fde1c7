/**
 * Once per run: bring the shared test database up to the committed migrations, give the run its
 * Redis namespace (testKeyPrefix), and at the end remove every key the run left there.
 */
import { createClient } from "redis";
import type { TestProject } from "vitest/node";
import { globEscape } from "../../matching/store/redis/keys.ts";
import { openPostgres } from "../../platform/database.ts";
import { applyMigrations } from "../../prisma/tools/migrations.ts";
import { probePostgres, probeRedis, runKeyPattern, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueTag } from "./services.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = uniqueTag();
  project.provide("testRunTag", run);
  await migrateTestDatabase();
  return () => removeRunKeys(run);
}

async function migrateTestDatabase(): Promise<void> {
  if ((await probePostgres()) !== null) return; // the suites that need it report why
  const database = await openPostgres(TEST_DATABASE_URL, { poolSize: 2 });
  try {
    const applied = await applyMigrations(database.migrationAdapter);
    if (applied.length) console.log(`[globalSetup] applied to the test database: ${applied.join(", ")}`);
  } finally {
    await database.close();
  }
}

/**
 * Servers that a suite stops keep their Redis keys (a stopped server must not wipe the live state
 * it shares with others), so the run sweeps its own namespace once every suite is done.
 */
async function removeRunKeys(run: string): Promise<void> {
  if ((await probeRedis()) !== null) return;
  const client = createClient({ url: TEST_REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  try {
    let removed = 0;
    for await (const keys of client.scanIterator({ MATCH: `${globEscape(runKeyPattern(run))}*`, COUNT: 1000 })) {
      if (keys.length) removed += await client.unlink(keys);
    }
    if (removed) console.log(`[globalSetup] removed the run's ${removed} Redis keys`);
  } finally {
    await client.quit();
  }
}

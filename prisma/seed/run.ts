/** `npm run seed`: loads the demo data into DATABASE_URL (or the embedded database); safe to repeat. */
import path from "node:path";
import { ConfigError, loadConfig } from "../../core/config.ts";
import { openPglite, openPostgres } from "../../platform/database.ts";
import { pendingMigrations } from "../tools/migrations.ts";
import { seedDemo } from "./demo.ts";

try {
  const config = loadConfig();
  const database = config.databaseUrl ? await openPostgres(config.databaseUrl, { poolSize: 2 }) : await openPglite(path.resolve(config.dataDir));
  try {
    const pending = await pendingMigrations(database.prisma);
    if (pending.length) throw new Error(`${pending.length} pending migration(s); run \`npm run db:migrate\` first`);
    const { inserted } = await seedDemo(database.prisma);
    const p = database.prisma;
    const [branches, advisors, licences, clients, policies] = await Promise.all([
      p.branch.count(),
      p.advisor.count(),
      p.licence.count(),
      p.client.count(),
      p.dispatchPolicy.count(),
    ]);
    console.log(`seeded ${database.kind} at ${database.location}`);
    console.log(`inserted now: ${JSON.stringify(inserted)}`);
    console.log(`rows now: branches=${branches} advisors=${advisors} licences=${licences} clients=${clients} dispatchPolicies=${policies}`);
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * `npm run check:consistency`: compares the live matching state in Redis with PostgreSQL, field by
 * field, and checks the invariants (matching/records/consistency.ts, the checker the fault tests end
 * with). For operators after an incident or a load test: it reads DATABASE_URL, REDIS_URL (or the
 * Sentinel variables) and REDIS_PREFIX as the server does, writes nothing, prints a summary and each finding, and exits 0
 * when both stores agree and no invariant is broken, 1 when not, 2 when it could not run.
 *
 * Requests changed within the last `SETTLE_MS` (default 60 s) are not yet judged stuck: their next
 * step may still be due. Run it again after the system has settled to confirm a finding.
 */
import { loadConfig } from "../../core/config.ts";
import { checkConsistency } from "../../matching/records/consistency.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { openPostgres } from "../../platform/database.ts";
import { connectConfiguredRedis } from "../../platform/backends.ts";

const config = loadConfig();
if (!config.databaseUrl || !(config.redisUrl || config.redisSentinel)) {
  console.error(
    "check:consistency compares PostgreSQL with Redis: set DATABASE_URL and REDIS_URL or REDIS_SENTINELS + REDIS_SENTINEL_MASTER (embedded mode keeps one store in one process)",
  );
  process.exit(2);
}
const settleMs = Number(process.env.SETTLE_MS ?? 60_000);
if (!Number.isInteger(settleMs) || settleMs < 0) {
  console.error("SETTLE_MS must be a whole number of milliseconds");
  process.exit(2);
}

const database = await openPostgres(config.databaseUrl);
const redis = await connectConfiguredRedis(config, (error) => console.error(`redis: ${error.message}`));
try {
  const store = createRedisMatchingStore(redis.client, { prefix: config.redisPrefix });
  const started = Date.now();
  const report = await checkConsistency({ prisma: database.prisma, store, now: Date.now(), settleMs });
  console.log(
    `compared ${report.requests} requests in ${Date.now() - started} ms: ${report.divergences.length} divergences, ${report.violations.length} invariant violations`,
  );
  for (const d of report.divergences) console.log(`divergence  ${JSON.stringify(d)}`);
  for (const v of report.violations) console.log(`violation   ${JSON.stringify(v)}`);
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await redis.close();
  await database.close();
}

import { openTestPostgres } from "../support/databases.ts";
import { describeWithServices, probePostgres, probeRedis } from "../support/services.ts";
import { historyProperty } from "./support/historyProperty.ts";
import { openTestRedisStore } from "./support/redisStores.ts";

describeWithServices("histories on Redis + PostgreSQL", [await probePostgres(), await probeRedis()], () => {
  historyProperty("matching invariants: Redis store on PostgreSQL", {
    openDatabase: openTestPostgres,
    openStore: () => openTestRedisStore(),
    numRuns: Number(process.env.HISTORY_RUNS ?? 1000),
  });
});

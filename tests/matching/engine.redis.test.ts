import { openTestPostgres } from "../support/databases.ts";
import { describeWithServices, probePostgres, probeRedis } from "../support/services.ts";
import { engineContract } from "./support/engineContract.ts";
import { openTestRedisStore } from "./support/redisStores.ts";

describeWithServices("engine on Redis + PostgreSQL", [await probePostgres(), await probeRedis()], () => {
  engineContract("matching engine: Redis store on PostgreSQL", { openDatabase: openTestPostgres, openStore: () => openTestRedisStore() });
});

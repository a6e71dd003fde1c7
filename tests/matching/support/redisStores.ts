/** Redis-backed stores for tests: each store gets its own key prefix, each client its own connection. */
import { createClient } from "redis";
import { type RedisClient, TRACKING_CLIENT_OPTIONS } from "../../../platform/redis.ts";
import type { MatchingStore } from "../../../matching/store/port.ts";
import { createRedisMatchingStore } from "../../../matching/store/redis/store.ts";
import { TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "../../support/services.ts";

export async function connectTestRedis(): Promise<RedisClient> {
  const client = createClient({ url: TEST_REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** A connection with CLIENT TRACKING, as a server's candidate lookup reads through (RedisHandle.tracking). */
export async function connectTestTracking(): Promise<RedisClient> {
  const client = createClient({ url: TEST_REDIS_URL, ...TRACKING_CLIENT_OPTIONS }) as unknown as RedisClient;
  client.on("error", () => {});
  await client.connect();
  return client;
}

/**
 * A store under a fresh prefix whose close() removes its keys and closes its connections. It reads
 * candidates through a tracking connection, as a server does. It starts
 * live (a generation set, as after a server's start-up rebuild), so fenced decisions run; pass
 * `{ live: false }` for a store whose live state is still to be built (rebuild tests).
 */
export async function openTestRedisStore(prefix = testKeyPrefix(), options: { live?: boolean } = {}): Promise<MatchingStore> {
  const client = await connectTestRedis();
  const tracking = await connectTestTracking();
  const store = createRedisMatchingStore(client, { prefix, tracking });
  if (options.live !== false) await store.setGeneration(`test:${uniqueTag()}`);
  return {
    ...store,
    async close() {
      await store.reset();
      await Promise.all([client.quit(), tracking.quit()]);
    },
  };
}

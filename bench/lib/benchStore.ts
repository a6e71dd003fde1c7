/**
 * Opening a matching store for a benchmark: the in-memory adapter, or the Redis adapter under a key
 * prefix of its own (Redis is shared with other users of the machine, so a benchmark deletes exactly
 * its own keys afterwards and never flushes).
 */
import { createClient } from "redis";
import { type RedisClient, TRACKING_CLIENT_OPTIONS } from "../../platform/redis.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { deleteRedisPrefix, uniqueRedisPrefix } from "./redisPrefix.ts";

export type StoreKind = "memory" | "redis";

export interface BenchStore {
  store: MatchingStore;
  /** Deletes what the store wrote and disconnects. Call it in a finally block. */
  close(): Promise<void>;
}

export async function openBenchStore(kind: StoreKind, redisUrl: string, label: string): Promise<BenchStore> {
  if (kind === "memory") return { store: createMemoryMatchingStore(), close: async () => {} };
  const client = createClient({ url: redisUrl });
  client.on("error", () => {});
  await client.connect();
  // The candidate lookup's own connection, told of changes to what it read, as a server has (RedisHandle.tracking).
  const tracking = createClient({ url: redisUrl, ...TRACKING_CLIENT_OPTIONS }) as unknown as RedisClient;
  tracking.on("error", () => {});
  await tracking.connect();
  const prefix = uniqueRedisPrefix(label);
  // Journaling, as in a server: each action's script appends its journal entry (nobody consumes it
  // here; the prefix, stream included, is deleted after the run).
  const store = createRedisMatchingStore(client, { prefix, journal: true, tracking });
  // A live state (as after a start's rebuild): decisions are fenced while the generation is missing.
  await store.setGeneration("bench");
  return {
    store,
    async close() {
      try {
        // One UNLINK per SCAN page rather than the store's per-key reset: 100k advisors' keys go in seconds.
        await deleteRedisPrefix(redisUrl, prefix);
      } finally {
        await Promise.all([client.quit(), tracking.quit()]);
      }
    },
  };
}

export async function redisReachable(redisUrl: string): Promise<boolean> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.quit();
    return true;
  } catch {
    return false;
  }
}

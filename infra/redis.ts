/** Redis connections through the node `redis` client. */
import { createClient } from "redis";
import { redactUrl } from "../core/config.ts";

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisHandle {
  location: string;
  client: RedisClient;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects and fails fast when Redis is not there: at start we would rather refuse than serve
 * without the shared matching state. Afterwards the client reconnects with backoff.
 */
export async function connectRedis(url: string, onError: (error: Error) => void): Promise<RedisHandle> {
  const client = createClient({
    url,
    // While Redis is unreachable, fail commands at once (the API answers 503 with Retry-After)
    // instead of queueing them and leaving callers hanging.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000),
    },
  });
  client.on("error", onError);
  await connectOrFail(client);
  return {
    location: redactUrl(url),
    client,
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      if (client.isOpen) await client.quit();
    },
  };
}

async function connectOrFail(client: RedisClient): Promise<void> {
  // The client retries forever by default; give the first connection a deadline instead.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("could not connect to Redis within 5 s")), 5_000);
  });
  try {
    await Promise.race([client.connect(), deadline]);
  } catch (error) {
    client.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

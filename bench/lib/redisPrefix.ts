/**
 * A Redis key prefix of one's own per run: the benchmarks share Redis with other users of the
 * machine, so they never flush it, and instead delete exactly the keys under their prefix.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { globEscape } from "../../matching/store/redis/keys.ts";

/** A fresh prefix such as `bench:endToEnd:1a2b3c4d:`. No prefix it makes is a prefix of another. */
export function uniqueRedisPrefix(label: string): string {
  return `bench:${label}:${randomBytes(4).toString("hex")}:`;
}

/** Deletes every key under `prefix` (SCAN, so Redis is never blocked); returns how many. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<number> {
  const client = createClient({ url: redisUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    let deleted = 0;
    for await (const keys of client.scanIterator({ MATCH: `${globEscape(prefix)}*`, COUNT: 1000 })) {
      if (keys.length) deleted += await client.unlink(keys);
    }
    return deleted;
  } finally {
    await client.quit();
  }
}

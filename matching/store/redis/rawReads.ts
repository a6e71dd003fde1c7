/**
 * The candidate lookup's two reads, sent as plain commands. node-redis's typed command objects
 * (client.mGet, client.zRangeWithScores) build a parser over every key and transform the reply into
 * objects; for an 80-key MGET and a few 40-row ZRANGEs that cost about 40 µs each on this project's
 * machine, a tenth of a national lookup. sendCommand writes the same command and hands back the
 * reply as decoded, and it is still the client's bounded path (platform/redis.ts puts its deadline
 * there), so nothing but the object building is skipped.
 */
import type { RedisClient } from "../../../platform/redis.ts";

/** One entry of a sorted set's range: its member and score. */
export interface ScoredMember {
  value: string;
  score: number;
}

/** MGET: each key's string value, in order, null where the key is missing. */
export async function readStrings(client: RedisClient, keys: string[]): Promise<Array<string | null>> {
  if (keys.length === 0) return [];
  const reply = (await client.sendCommand(["MGET", ...keys])) as unknown[];
  return reply.map((raw) => (raw === null || raw === undefined ? null : String(raw)));
}

/** ZRANGE key start stop WITHSCORES: the members ranked start..stop (inclusive), lowest score first. */
export async function readScoredRange(client: RedisClient, key: string, start: number, stop: number): Promise<ScoredMember[]> {
  const reply = (await client.sendCommand(["ZRANGE", key, String(start), String(stop), "WITHSCORES"])) as unknown[];
  const rows: ScoredMember[] = [];
  // RESP2 answers a flat member, score, member, score list; RESP3 answers [member, score] pairs.
  if (reply.length > 0 && Array.isArray(reply[0])) {
    for (const pair of reply as unknown[][]) rows.push({ value: String(pair[0]), score: Number(pair[1]) });
    return rows;
  }
  for (let i = 0; i + 1 < reply.length; i += 2) rows.push({ value: String(reply[i]), score: Number(reply[i + 1]) });
  return rows;
}

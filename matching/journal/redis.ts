/**
 * The journal on a Redis Stream, `${prefix}journal`, with one consumer group, `persisters`: every
 * server process runs a persister as one consumer. Entries are deleted once acknowledged, so the
 * stream holds exactly what is not yet persisted (its length and first id are the lag).
 * Persisted ids are announced on `${prefix}journal:persisted` so a process waiting on its own
 * decision wakes whichever process persisted it.
 */
import type { RedisClient } from "../../platform/redis.ts";
import { outcomeOf } from "../store/redis/codes.ts";
import { runScript } from "../store/redis/scripts.ts";
import { asArray, decodeOffer, decodeOffers, decodeRequest, decodeSnapshot } from "../store/redis/decode.ts";
import { materialize, type AcceptContext, type AdvanceContext, type CloseContext, type EndContext, type OfferContext, type ReopenContext } from "./draft.ts";
import type { Delivered, Journal, JournalEntry } from "./port.ts";

const GROUP = "persisters";

/** A stream id is "<ms>-<seq>": the ms is when Redis appended it. */
const idMs = (id: string) => Number(id.slice(0, id.indexOf("-")));

type RawEntry = [id: string, fields: string[]];

/**
 * An entry's fields: `e`, the entry as JSON (appended from Node), or `k` and the draft's parts
 * (appended by an action script in the decision's own step: lua/acceptOffer.lua, lua/endRequest.lua,
 * lua/resolveOffer.lua, lua/makeOffers.lua, lua/advanceStage.lua, lua/reopenRequest.lua;
 * see draft.ts).
 */
function entryOf(fields: string[]): JournalEntry | null {
  const field = (name: string): string | undefined => {
    for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
    return undefined;
  };
  const json = field("e");
  if (json !== undefined) return JSON.parse(json) as JournalEntry;
  const kind = field("k");
  const request = decodeRequest(field("d"));
  if (!request) return null;
  if (kind === "accept") {
    return materialize({
      context: JSON.parse(field("x")!) as AcceptContext,
      request: request.value,
      offer: decodeOffer(JSON.parse(field("o")!)),
      superseded: decodeOffers(field("s")),
    });
  }
  if (kind === "offer") {
    const snapshots = asArray(JSON.parse(field("g")!));
    const offers = decodeOffers(field("o")).map((offer, i) => ({ offer, eligibility: decodeSnapshot(JSON.stringify(snapshots[i])) }));
    return materialize({ context: JSON.parse(field("x")!) as OfferContext, request: request.value, offers });
  }
  if (kind === "advance" || kind === "reopen")
    return materialize({ context: JSON.parse(field("x")!) as AdvanceContext | ReopenContext, request: request.value });
  if (kind === "close")
    return materialize({ context: JSON.parse(field("x")!) as CloseContext, request: request.value, offer: decodeOffer(JSON.parse(field("o")!)) });
  if (kind === "end") return materialize({ context: JSON.parse(field("x")!) as EndContext, request: request.value, withdrawn: decodeOffers(field("w")) });
  return null;
}

function decode(raw: RawEntry[] | null | undefined): Delivered[] {
  const out: Delivered[] = [];
  for (const item of raw ?? []) {
    // XAUTOCLAIM answers null for an entry deleted meanwhile (it was acknowledged elsewhere).
    if (!Array.isArray(item) || !Array.isArray(item[1])) continue;
    const [id, fields] = item;
    const entry = entryOf(fields);
    if (entry) out.push({ id, entry });
  }
  return out;
}

export async function createRedisJournal(client: RedisClient, options: { prefix: string }): Promise<Journal> {
  const stream = `${options.prefix}journal`;
  const channel = `${options.prefix}journal:persisted`;
  const send = <T>(args: string[]) => client.sendCommand(args) as Promise<T>;

  const ensureGroup = async () => {
    try {
      await send(["XGROUP", "CREATE", stream, GROUP, "0", "MKSTREAM"]);
    } catch (error) {
      if (!/BUSYGROUP/.test(String((error as Error).message))) throw error;
    }
  };
  await ensureGroup();

  const persisted = persistedChannel(client, channel);

  return {
    kind: "redis",

    async append(entry) {
      return send<string>(["XADD", stream, "*", "r", entry.requestId, "e", JSON.stringify(entry)]);
    },

    async take(consumer, count, idleMs) {
      try {
        // Our own unacknowledged entries, else a dead consumer's, else new ones: one script (lua/journalTake.lua).
        const outcome = outcomeOf("journalTake", await runScript(client, "journalTake", [stream], [GROUP, consumer, String(count), String(idleMs)]));
        return decode(outcome.payload[0] as RawEntry[]);
      } catch (error) {
        // The stream (and its group) is gone when Redis lost its data: make them again.
        if (/NOGROUP/.test(String((error as Error).message))) {
          await ensureGroup();
          return [];
        }
        throw error;
      }
    },

    async contains(id) {
      const found = await send<RawEntry[]>(["XRANGE", stream, id, id, "COUNT", "1"]);
      return Array.isArray(found) && found.length > 0;
    },

    async ack(ids) {
      if (!ids.length) return;
      // One step: were XACK and XDEL separate, a lost reply between them would leave an entry that is
      // acknowledged (never given out again) but still in the stream, counted as lag for good.
      outcomeOf("journalAck", await runScript(client, "journalAck", [stream], [GROUP, ...ids]));
    },

    async lag(now) {
      const [length, first] = await Promise.all([send<number>(["XLEN", stream]), send<RawEntry[]>(["XRANGE", stream, "-", "+", "COUNT", "1"])]);
      const oldest = first?.[0]?.[0];
      return { entries: Number(length), oldestMs: oldest ? Math.max(0, now - idMs(oldest)) : 0 };
    },

    onPersisted: persisted.onPersisted,
    announcePersisted: persisted.announcePersisted,
    close: persisted.close,
  };
}

/**
 * The "persisted" announcements: a pub/sub channel, so a process waiting to read its write learns
 * when another process's persister has recorded it. One subscriber connection, made on first use.
 */
function persistedChannel(client: RedisClient, channel: string): Pick<Journal, "onPersisted" | "announcePersisted" | "close"> {
  let subscriber: RedisClient | null = null;
  const listeners = new Set<(ids: string[]) => void>();
  return {
    async onPersisted(listener) {
      listeners.add(listener);
      if (!subscriber) {
        subscriber = client.duplicate();
        subscriber.on("error", () => {});
        await subscriber.connect();
        await subscriber.subscribe(channel, (raw) => {
          const ids = raw.split(",");
          for (const l of listeners) l(ids);
        });
      }
      return async () => {
        listeners.delete(listener);
      };
    },

    async announcePersisted(ids) {
      if (ids.length) await client.publish(channel, ids.join(","));
    },

    async close() {
      listeners.clear();
      if (subscriber?.isOpen) await subscriber.quit().catch(() => {});
      subscriber = null;
    },
  };
}

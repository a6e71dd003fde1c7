/**
 * Documents this process keeps and uses without reading them again until Redis says they changed:
 * server-assisted client-side caching. The connection (RedisHandle.tracking) runs CLIENT TRACKING
 * over RESP3 (OPTIN: only the documents' reads are tracked), so Redis remembers the documents it
 * read and, when one of them is written or deleted, pushes an invalidation on that same connection.
 * A push is written into the connection's stream when the write happens, so it arrives before the
 * reply to any command Redis ran after that write.
 *
 * Hence the promise of `read(ids)`: each document returned is at least as new as Redis's state when
 * the call was made (as a plain MGET sent then would be). The candidate lookup relies on it: it
 * sends a list's heads and then asks for the documents, and must never judge a head by an older
 * document. A kept document is only used once a reply sent after the call has arrived (the MGET of
 * the documents not kept or, when all are kept, the heads' replies or a PING), and only if no
 * invalidation of it came first;
 * otherwise it is read again.
 *
 * A reply and an invalidation that follows it can be decoded in one go, before the code awaiting
 * the reply runs: a document whose key is invalidated while its read is in flight is used, but not
 * kept (`dirty`). A reconnection loses the tracking (node-redis turns it on again in the handshake)
 * and a flush invalidates everything: both drop every kept document.
 *
 * Measured at 100k advisors, national pool (bench:matching): most lookups read no document at all,
 * only the lists' heads.
 */
import { LRUCache } from "lru-cache";
import type { RedisClient } from "../../../platform/redis.ts";
import type { DecodedCache } from "./decodedCache.ts";
import type { Doc } from "./decode.ts";
import { readStrings } from "./rawReads.ts";

/** Where a store keeps its documents: its key prefix, and a document's key. */
export interface DocPlace {
  /** The store's key prefix (the same string object on every call: it is compared by identity first). */
  prefix: string;
  keyOf(id: string): string;
}

/** A document key's prefix and id, or null for a key that is not a document's (an index list, say). */
export type ParseDocKey = (key: string) => { prefix: string; id: string } | null;

export interface TrackedDocs<T extends object> {
  /**
   * The documents of `ids` under `place`, in order (null where missing), each at least as new as
   * Redis's state when the call was made. `pin`: settles once the replies to commands sent on this
   * connection (the lookup's heads, sent just before the call or already answered) are in: when every
   * document is kept it serves instead of a PING, and each document is then at least as new as
   * Redis's state when those commands ran.
   */
  read(ids: string[], place: DocPlace, pin?: Promise<unknown>): Promise<Array<Doc<T> | null>>;
  /** How the documents were decoded: DecodedCache.textOf gives a returned document's stored text. */
  readonly decoded: DecodedCache<T>;
  /** Documents kept now. */
  readonly size: number;
}

/**
 * Kept documents by `client`: one set per connection, whatever store reads through it (entries carry
 * the store's prefix), so that a connection has one listener per event however many stores use it.
 */
const byClient = new WeakMap<RedisClient, TrackedDocs<object>>();

/** The tracked documents read through `client` (a RedisHandle.tracking connection), made on first use. */
export function trackedDocsOf<T extends object>(client: RedisClient, make: () => TrackedDocs<T>): TrackedDocs<T> {
  let docs = byClient.get(client) as TrackedDocs<T> | undefined;
  if (!docs) {
    docs = make();
    byClient.set(client, docs as unknown as TrackedDocs<object>);
  }
  return docs;
}

/**
 * The kept documents and the reads in flight, and how an invalidation changes them: nothing here
 * talks to Redis.
 */
function keptDocuments<T extends object>(parseKey: ParseDocKey, capacity: number) {
  // By id, not by key: the ids come from the lists' replies and are hashed once for the merge, while
  // a key built per lookup would be hashed anew for every candidate (a fifth of a national lookup's
  // Node time). An entry of another prefix under the same id is a miss. Least recently used dropped
  // first; Redis may still track a dropped key, and its invalidation then finds nothing to drop.
  const kept = new LRUCache<string, { prefix: string; doc: Doc<T> }>({ max: capacity });
  // Keys with a read in flight, how many; and those of them invalidated since (not to be kept).
  const inFlight = new Map<string, number>();
  const dirty = new Set<string>();
  return {
    get(id: string, prefix: string): Doc<T> | undefined {
      const entry = kept.get(id);
      return entry && entry.prefix === prefix ? entry.doc : undefined;
    },
    /** Whether `doc` is still the one kept for `id` (no invalidation or eviction since). */
    still: (id: string, doc: Doc<T> | null) => kept.peek(id)?.doc === doc,
    /** A key's invalidation (null: everything's). */
    invalidate(key: string | null) {
      if (key === null) {
        kept.clear();
        for (const k of inFlight.keys()) dirty.add(k);
        return;
      }
      const doc = parseKey(key);
      if (doc && kept.peek(doc.id)?.prefix === doc.prefix) kept.delete(doc.id);
      if (inFlight.has(key)) dirty.add(key);
    },
    begin(keys: string[]) {
      for (const key of keys) inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    },
    /** A read ended: keeps what no invalidation overtook (only the last of overlapping reads of a key keeps it). */
    end(keys: string[], ids: string[], docs: Array<Doc<T> | null> | null, prefix: string) {
      for (const [i, key] of keys.entries()) {
        const left = inFlight.get(key)! - 1;
        if (left > 0) {
          inFlight.set(key, left);
          continue;
        }
        inFlight.delete(key);
        const doc = docs?.[i];
        if (doc && !dirty.has(key)) kept.set(ids[i]!, { prefix, doc });
        dirty.delete(key);
      }
    },
    get size() {
      return kept.size;
    },
  };
}

/**
 * Wires the connection's events to the kept documents, and tracks only the documents read (OPTIN,
 * with CLIENT CACHING YES before each MGET), not the lists the lookup reads too: every change to a
 * list would otherwise push an invalidation nobody needs. node-redis's handshake turns tracking on in
 * the default mode, so each connection switches here, before any other command of ours is sent on
 * it (commands wait for `ready`).
 */
function listen(client: RedisClient, invalidate: (key: string | null) => void): void {
  client.on("invalidate", (key: unknown) => invalidate(key === null || key === undefined ? null : String(key)));
  // Whatever happened while the connection was down went unreported: forget everything.
  for (const event of ["ready", "end", "error", "reconnecting"]) client.on(event, () => invalidate(null));
  const optIn = () => {
    void client.sendCommand(["CLIENT", "TRACKING", "OFF"]).catch(() => {});
    void client.sendCommand(["CLIENT", "TRACKING", "ON", "OPTIN"]).catch(() => {});
  };
  client.on("ready", optIn);
  if (client.isReady) optIn();
}

export function createTrackedDocs<T extends object>(client: RedisClient, decoded: DecodedCache<T>, parseKey: ParseDocKey, capacity: number): TrackedDocs<T> {
  const kept = keptDocuments<T>(parseKey, capacity);
  listen(client, kept.invalidate);

  /** One MGET, its documents kept unless an invalidation overtook them. */
  async function fetch(ids: string[], place: DocPlace): Promise<Array<Doc<T> | null>> {
    const keys = ids.map((id) => place.keyOf(id));
    kept.begin(keys);
    // Sent right before the MGET (nothing can come between two calls in one turn): if it fails, the
    // keys are not tracked and the documents are used but not kept.
    const caching = client.sendCommand(["CLIENT", "CACHING", "YES"]).then(
      () => true,
      () => false,
    );
    let keep: Array<Doc<T> | null> | null = null;
    try {
      const raws = await readStrings(client, keys);
      const docs = raws.map((raw, i) => decoded.decode(ids[i]!, raw));
      if (await caching) keep = docs;
      return docs;
    } finally {
      kept.end(keys, ids, keep, place.prefix);
    }
  }

  return {
    async read(ids, place, pin) {
      const out: Array<Doc<T> | null> = new Array(ids.length).fill(null);
      const hits: number[] = [];
      const misses: string[] = [];
      const missAt: number[] = [];
      for (const [i, id] of ids.entries()) {
        const doc = kept.get(id, place.prefix);
        if (doc) {
          out[i] = doc;
          hits.push(i);
        } else {
          misses.push(id);
          missAt.push(i);
        }
      }
      // A reply to a command sent now: every invalidation of a write Redis ran before it is in by then.
      if (misses.length > 0) {
        const docs = await fetch(misses, place);
        for (const [j, i] of missAt.entries()) out[i] = docs[j]!;
      } else if (hits.length > 0) await (pin ?? client.sendCommand(["PING"]));
      // A kept document invalidated meanwhile may be older than the call: read it again.
      const overtaken = hits.filter((i) => !kept.still(ids[i]!, out[i]!));
      if (overtaken.length > 0) {
        const docs = await fetch(
          overtaken.map((i) => ids[i]!),
          place,
        );
        for (const [j, i] of overtaken.entries()) out[i] = docs[j]!;
      }
      return out;
    },
    decoded,
    get size() {
      return kept.size;
    },
  };
}

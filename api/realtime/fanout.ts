/**
 * Delivery across server processes: a decision made on one process must reach users connected to
 * any process. With Redis, every process publishes envelopes to one channel and every process
 * delivers the ones addressed to its own sockets; without Redis there is one process, so a direct
 * call suffices.
 */
import { randomUUID } from "node:crypto";
import type { RedisClient } from "../../platform/redis.ts";

export interface Envelope {
  /** Addresses to deliver to: user ids (token subjects), or feed addresses such as branchAddress(…). */
  to: string[];
  message: Record<string, unknown> & { type: string };
  /**
   * The message is a stub that each delivering process renders (RealtimeOptions.render), and only
   * when one of its own sockets is addressed: what it costs to make (a database read) is spent
   * where someone will receive it.
   */
  render?: boolean;
}

const BRANCH_FEED = "branch:";

/**
 * The address of a branch's live feed, which the sockets of that branch's managers listen on. A
 * token subject may contain ':' too, so the hub keeps feed listeners apart from users (isFeedAddress).
 */
export const branchAddress = (branchId: string): string => `${BRANCH_FEED}${branchId}`;

/** True for a feed's address (delivered to the feed's listeners), false for a user's. */
export const isFeedAddress = (address: string): boolean => address.startsWith(BRANCH_FEED);

const rethrow = (error: unknown): never => {
  throw error;
};

export interface Fanout {
  publish(envelope: Envelope): Promise<void>;
  /** Registers this process's local delivery; returns a function that stops it. */
  onEnvelope(handler: (envelope: Envelope) => void): void;
  close(): Promise<void>;
}

/**
 * Hands an envelope to every handler; a handler's error goes to onError, so the rest still get it
 * unless onError throws.
 */
function createDelivery(onError: (error: unknown) => void) {
  const handlers: Array<(envelope: Envelope) => void> = [];
  const deliver = (envelope: Envelope) => {
    for (const handler of handlers) {
      try {
        handler(envelope);
      } catch (error) {
        onError(error);
      }
    }
  };
  return { handlers, deliver };
}

/** One process, no Redis: publishing is delivering, and a handler's error reaches the publisher. */
export function createLocalFanout(): Fanout {
  const { handlers, deliver } = createDelivery(rethrow);
  return {
    async publish(envelope) {
      deliver(envelope);
    },
    onEnvelope(handler) {
      handlers.push(handler);
    },
    async close() {},
  };
}

/** What crosses the channel: one envelope, or (from several published in one callback) a batch of them, in order. */
type Published = (Envelope & { origin?: string }) | { origin?: string; batch: Envelope[] };

/** Envelopes in one message at most: a callback that publishes more sends several, in order. */
export const MAX_ENVELOPES_PER_MESSAGE = 100;

const isBatch = (published: Published): published is { origin?: string; batch: Envelope[] } =>
  Array.isArray((published as { batch?: unknown }).batch) && !("to" in published);

/**
 * Envelopes published in one callback (before its process.nextTick queue runs) go out as one
 * message, in the order published. Under load a callback often publishes several envelopes (about
 * ten per request's life; measured in the endToEnd bench: 9.6 PUBLISHes per flow became 4.3), and
 * each PUBLISH costs this process a command and every process a message to receive and parse (about
 * 10 µs of CPU per envelope saved here at two or three per callback). nextTick rather than
 * setImmediate: the PUBLISH still joins node-redis's write of that turn, not a write of its own.
 *
 * Each envelope is serialised in its caller's turn, so one that cannot be (a BigInt, a cycle) fails
 * its own publish only; the message is the texts joined. Every caller's promise settles with its
 * batch's PUBLISHes. A lone envelope crosses in the shape it had before batches.
 */
function coalesced(origin: string, publish: (message: string) => Promise<unknown>): (envelope: Envelope) => Promise<void> {
  const tag = `{"origin":${JSON.stringify(origin)},`;
  // An envelope's text is an object with `to` in it, so never "{}": its first brace can give way to the tag.
  const messageOf = (texts: string[]) => (texts.length === 1 ? `${tag}${texts[0]!.slice(1)}` : `${tag}"batch":[${texts.join(",")}]}`);
  let pending: string[] = [];
  let sent: Promise<void> | null = null;
  return (envelope) => {
    pending.push(JSON.stringify(envelope));
    sent ??= new Promise<void>((resolve, reject) =>
      process.nextTick(() => {
        const texts = pending;
        pending = [];
        sent = null;
        const chunks: string[][] = [];
        for (let i = 0; i < texts.length; i += MAX_ENVELOPES_PER_MESSAGE) chunks.push(texts.slice(i, i + MAX_ENVELOPES_PER_MESSAGE));
        Promise.all(chunks.map(async (chunk) => publish(messageOf(chunk)))).then(() => resolve(), reject);
      }),
    );
    return sent;
  };
}

/**
 * Redis pub/sub fan-out. Subscribing needs a connection of its own (a subscribed connection can run
 * nothing else), so it duplicates the shared client.
 *
 * This process's own sockets get an envelope at once, before it is published, and its subscriber
 * skips what it published itself (each envelope on the channel names the fan-out it came from).
 * The round trip through Redis and back was about 2 ms of an offer's way to the advisor's socket
 * (10 requests/s); the other processes get it through the channel as before. A handler that throws
 * is reported and does not stop the publish. Envelopes published in one callback share one message
 * (coalesced); a process of a version before that reports a batch as an error and drops it.
 */
export async function createRedisFanout(client: RedisClient, channel: string, onError: (error: unknown) => void): Promise<Fanout> {
  const origin = randomUUID();
  const subscriber = client.duplicate();
  subscriber.on("error", onError);
  await subscriber.connect();
  const { handlers, deliver } = createDelivery(onError);
  await subscriber.subscribe(channel, (raw) => {
    let published: Published;
    try {
      published = JSON.parse(raw) as Published;
    } catch (error) {
      onError(error);
      return;
    }
    if (typeof published !== "object" || published === null) {
      onError(new Error(`realtime channel ${channel}: a message that is not an envelope`));
      return;
    }
    if (published.origin === origin) return;
    if (isBatch(published)) {
      for (const envelope of published.batch) deliver(envelope);
      return;
    }
    const { origin: _origin, ...envelope } = published;
    deliver(envelope);
  });
  const send = coalesced(origin, (message) => client.publish(channel, message));
  return {
    async publish(envelope) {
      deliver(envelope);
      await send(envelope);
    },
    onEnvelope(handler) {
      handlers.push(handler);
    },
    async close() {
      if (subscriber.isOpen) await subscriber.quit();
    },
  };
}

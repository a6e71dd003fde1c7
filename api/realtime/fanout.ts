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

/**
 * Redis pub/sub fan-out. Subscribing needs a connection of its own (a subscribed connection can run
 * nothing else), so it duplicates the shared client.
 *
 * This process's own sockets get an envelope at once, before it is published, and its subscriber
 * skips what it published itself (each envelope on the channel names the fan-out it came from).
 * The round trip through Redis and back was about 2 ms of an offer's way to the advisor's socket
 * (10 requests/s); the other processes get it through the channel as before. A handler that throws
 * is reported and does not stop the publish.
 */
export async function createRedisFanout(client: RedisClient, channel: string, onError: (error: unknown) => void): Promise<Fanout> {
  const origin = randomUUID();
  const subscriber = client.duplicate();
  subscriber.on("error", onError);
  await subscriber.connect();
  const { handlers, deliver } = createDelivery(onError);
  await subscriber.subscribe(channel, (raw) => {
    let published: Envelope & { origin?: string };
    try {
      published = JSON.parse(raw) as Envelope & { origin?: string };
    } catch (error) {
      onError(error);
      return;
    }
    if (published.origin === origin) return;
    const { origin: _origin, ...envelope } = published;
    deliver(envelope);
  });
  return {
    async publish(envelope) {
      deliver(envelope);
      await client.publish(channel, JSON.stringify({ ...envelope, origin }));
    },
    onEnvelope(handler) {
      handlers.push(handler);
    },
    async close() {
      if (subscriber.isOpen) await subscriber.quit();
    },
  };
}

/**
 * Delivery across server processes: a decision made on one process must reach users connected to
 * any process. With Redis, every process publishes envelopes to one channel and every process
 * delivers the ones addressed to its own sockets; without Redis there is one process, so a direct
 * call suffices.
 */
import type { RedisClient } from "../../platform/redis.ts";

export interface Envelope {
  /** User ids (token subjects) to deliver to. */
  to: string[];
  message: Record<string, unknown> & { type: string };
}

export interface Fanout {
  publish(envelope: Envelope): Promise<void>;
  /** Registers this process's local delivery; returns a function that stops it. */
  onEnvelope(handler: (envelope: Envelope) => void): void;
  close(): Promise<void>;
}

export function createLocalFanout(): Fanout {
  const handlers: Array<(envelope: Envelope) => void> = [];
  return {
    async publish(envelope) {
      for (const handler of handlers) handler(envelope);
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
 */
export async function createRedisFanout(client: RedisClient, channel: string, onError: (error: unknown) => void): Promise<Fanout> {
  const subscriber = client.duplicate();
  subscriber.on("error", onError);
  await subscriber.connect();
  const handlers: Array<(envelope: Envelope) => void> = [];
  await subscriber.subscribe(channel, (raw) => {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch (error) {
      onError(error);
      return;
    }
    for (const handler of handlers) handler(envelope);
  });
  return {
    async publish(envelope) {
      await client.publish(channel, JSON.stringify(envelope));
    },
    onEnvelope(handler) {
      handlers.push(handler);
    },
    async close() {
      if (subscriber.isOpen) await subscriber.quit();
    },
  };
}

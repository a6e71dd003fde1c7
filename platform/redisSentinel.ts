/**
 * Redis through Sentinel: the server asks the Sentinels which node is the master of REDIS_SENTINEL_MASTER,
 * connects to it, and follows it across failovers without a restart.
 *
 * Why not node-redis's own createSentinel: its client is a pool with another command signature
 * (sendCommand takes an isReadonly flag first) and no duplicate(), while the matching store, the
 * journal, the rate limiter and the realtime fan-out are written against one plain client (scripts
 * by SHA, pub/sub on duplicates) and platform/redis.ts bounds every command of that client. So the
 * handle keeps that client type and puts a forwarding proxy in front of it:
 * - every property and command of the handed-out client goes to the current master's client, a
 *   bounded one made by openRedisClient like any other;
 * - the Sentinels are asked every FOLLOW_INTERVAL_MS, and at once when the current client reports an
 *   error; when they name another node, a client to it is connected, checked to be a master (ROLE),
 *   and swapped in; the old client is destroyed, which fails whatever still waited on the old master;
 * - duplicates (the pub/sub subscribers) follow too: each remembers its listeners and subscriptions,
 *   and is replaced by a duplicate of the new master's client, connected and subscribed again.
 *
 * What a failover does to a decision: a command on the dead master fails (socket closed, client
 * offline or its deadline: platform/unavailable.ts makes each a 503), one reaching a demoted master
 * answers READONLY (also a 503), and scripts are loaded again on the new master through the NOSCRIPT
 * fallback (matching/store/redis/scripts.ts). A decision is one script, so it is applied whole or not
 * at all; what replication had not yet carried to the replica is the journal's and the reconciler's
 * to repair, as after any loss of the live state.
 */
import { createClient } from "redis";
import { DEFAULT_REDIS_TIMEOUT_MS, type RedisSentinelConfig } from "../core/config.ts";
import { closeClient, openRedisClient, type RedisClient, type RedisHandle, type RedisOptions } from "./redis.ts";
import { UnavailableError } from "./unavailable.ts";

/** How often the Sentinels are asked which node is the master, besides at once on a connection error. */
export const FOLLOW_INTERVAL_MS = 500;

export interface SentinelOptions extends RedisOptions {
  /** Told of each switch to a new master (for the log). */
  onSwitch?: (from: string, to: string) => void;
}

type Address = { host: string; port: number };
const addressText = (a: Address) => `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;

/** Connects to the master the Sentinels name, and keeps following it; fails fast when none can be reached. */
export async function connectRedisSentinel(config: RedisSentinelConfig, onError: (error: Error) => void, options: SentinelOptions = {}): Promise<RedisHandle> {
  const sentinels = createSentinelAsker(config, options.timeoutMs);
  let closed = false;
  const openMaster = (at: Address) =>
    openMasterClient(config, at, options, (error) => {
      onError(error);
      // A lost connection may be the master going away: ask at once rather than at the next tick.
      void follow();
    });
  let address = await sentinels.master();
  let current: RedisClient = await openMaster(address);
  const followers = new Set<Follower>();
  const switchListeners: Array<() => void> = [];

  let following: Promise<void> | null = null;
  function follow(): Promise<void> {
    if (closed) return Promise.resolve();
    following ??= switchIfMoved()
      .catch((error: unknown) => onError(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        following = null;
      });
    return following;
  }

  async function switchIfMoved(): Promise<void> {
    const named = await sentinels.master();
    if (closed || addressText(named) === addressText(address)) return;
    const next = await openMaster(named);
    if (closed) {
      next.destroy();
      return;
    }
    const old = current;
    const from = addressText(address);
    current = next;
    address = named;
    options.onSwitch?.(from, addressText(named));
    for (const listener of switchListeners) listener();
    // Fails what still waits on the old master at once (each caller answers 503) instead of at its deadline.
    old.destroy();
    await Promise.all([...followers].map((f) => f.rebase(next).catch((error: unknown) => onError(error as Error))));
  }

  const timer = setInterval(() => void follow(), FOLLOW_INTERVAL_MS);
  timer.unref();

  const client = forward(() => current, {
    duplicate: () => () => {
      const follower = followingDuplicate(current, () => followers.delete(follower));
      followers.add(follower);
      return follower.client;
    },
  });

  return {
    location: `sentinel ${config.masterName} via ${config.sentinels.map(addressText).join(",")}`,
    client,
    ping: async () => {
      await current.ping();
    },
    onMasterSwitch: (listener) => {
      switchListeners.push(listener);
    },
    close: async () => {
      closed = true;
      clearInterval(timer);
      await following;
      sentinels.close();
      await closeClient(current, options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS);
    },
  };
}

/** A bounded client to the node the Sentinels named, checked to be a master already (ROLE). */
async function openMasterClient(config: RedisSentinelConfig, at: Address, options: SentinelOptions, onError: (error: Error) => void): Promise<RedisClient> {
  const client = await openRedisClient({ ...at, password: config.password }, onError, options);
  const role = (await client.sendCommand(["ROLE"]).catch(() => null)) as unknown[] | null;
  if (role?.[0] !== "master") {
    client.destroy();
    throw new UnavailableError("redis", "connection refused", `Sentinel named ${addressText(at)} as master of ${config.masterName}, but it is not one yet`);
  }
  return client;
}

/** A client that hands every property to whatever `target()` is now, except the ones in `own`. */
function forward(target: () => RedisClient, own: Record<string | symbol, () => unknown>): RedisClient {
  return new Proxy({} as RedisClient, {
    get(_, prop) {
      if (Object.hasOwn(own, prop)) return own[prop]!();
      const client = target();
      const value: unknown = Reflect.get(client, prop, client);
      return typeof value === "function" ? value.bind(client) : value;
    },
    has: (_, prop) => prop in target(),
  });
}

interface Follower {
  client: RedisClient;
  rebase(master: RedisClient): Promise<void>;
}

/** A duplicate that moves to the new master with its listeners and subscriptions. */
function followingDuplicate(master: RedisClient, onClose: () => void): Follower {
  type Listener = (...args: unknown[]) => void;
  let dup = master.duplicate();
  let connected = false;
  let closed = false;
  const listeners: Array<[string, Listener]> = [];
  const subscriptions: Array<[string | string[], Listener, boolean | undefined]> = [];
  const end = (action: "quit" | "close" | "destroy") => () => {
    closed = true;
    onClose();
    const d = dup as unknown as Record<string, () => unknown>;
    return d[action]!.call(dup);
  };
  const client: RedisClient = forward(() => dup, {
    on: () => (event: string, listener: Listener) => {
      listeners.push([event, listener]);
      dup.on(event, listener);
      return client;
    },
    connect: () => async () => {
      connected = true;
      await dup.connect();
      return client;
    },
    subscribe: () => async (channels: string | string[], listener: Listener, bufferMode?: boolean) => {
      subscriptions.push([channels, listener, bufferMode]);
      // biome-ignore lint/suspicious/noExplicitAny: node-redis's overloaded listener type
      return dup.subscribe(channels, listener as any, bufferMode as any);
    },
    quit: () => end("quit"),
    close: () => end("close"),
    destroy: () => end("destroy"),
  });
  return {
    client,
    async rebase(next) {
      if (closed) return;
      const old = dup;
      const fresh = next.duplicate();
      for (const [event, listener] of listeners) fresh.on(event, listener);
      dup = fresh;
      old.destroy();
      if (!connected) return;
      await fresh.connect();
      // biome-ignore lint/suspicious/noExplicitAny: node-redis's overloaded listener type
      for (const [channels, listener, bufferMode] of subscriptions) await fresh.subscribe(channels, listener as any, bufferMode as any);
    },
  };
}

/**
 * Asks the Sentinels, one after another until one answers, which node is the master. One lasting
 * connection per Sentinel (made on first use), so asking twice a second costs a round trip, not a handshake.
 */
function createSentinelAsker(config: RedisSentinelConfig, timeoutMs = 2_000) {
  const clients = new Map<string, ReturnType<typeof createClient>>();
  const connecting = new Map<string, Promise<unknown>>();
  const clientFor = async (node: Address) => {
    const key = addressText(node);
    let client = clients.get(key);
    if (client) {
      if (!client.isReady) await withTimeout(connecting.get(key)!, timeoutMs);
    } else {
      client = createClient({
        socket: { host: node.host, port: node.port, connectTimeout: timeoutMs, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) },
        password: config.sentinelPassword,
        disableOfflineQueue: true,
        disableClientInfo: true,
      });
      // A Sentinel down is expected (that is why there are three): the next one is asked.
      client.on("error", () => {});
      clients.set(key, client);
      // connect() retries until it succeeds; each ask waits for it a bounded time.
      const connected = client.connect().catch(() => {});
      connecting.set(key, connected);
      await withTimeout(connected, timeoutMs);
    }
    return client;
  };
  let next = 0;
  return {
    async master(): Promise<Address> {
      const problems: string[] = [];
      for (let i = 0; i < config.sentinels.length; i++) {
        const node = config.sentinels[(next + i) % config.sentinels.length]!;
        try {
          const client = await clientFor(node);
          const reply = (await withTimeout(client.sendCommand(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", config.masterName]), timeoutMs)) as string[] | null;
          if (Array.isArray(reply) && reply.length === 2) return { host: reply[0]!, port: Number(reply[1]) };
          problems.push(`${addressText(node)}: does not know ${config.masterName}`);
        } catch (error) {
          problems.push(`${addressText(node)}: ${error instanceof Error ? error.message : String(error)}`);
          // Start with another Sentinel next time.
          next = (next + i + 1) % config.sentinels.length;
        }
      }
      throw new UnavailableError("redis", "connection refused", `no Sentinel named the master of ${config.masterName} (${problems.join("; ")})`);
    },
    close() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

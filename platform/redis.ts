/** Redis connections through the node `redis` client. */
import { createClient } from "redis";
import { DEFAULT_REDIS_TIMEOUT_MS, redactUrl } from "../core/config.ts";
import { UnavailableError } from "./unavailable.ts";

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisHandle {
  location: string;
  client: RedisClient;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Through Sentinel only: `listener` runs after each switch to a new master (platform/redisSentinel.ts),
   * for state that must be checked against what the new master may have lost.
   */
  onMasterSwitch?(listener: () => void): void;
  /**
   * A second connection to the same Redis that is told when a key it read changes (CLIENT TRACKING
   * over RESP3: the invalidation arrives on this connection, ahead of any later reply), for documents
   * a process keeps and trusts until Redis says otherwise (the candidate lookup, matching/store/redis/
   * trackedDocs.ts, which switches it to OPTIN: only the reads it marks are tracked). Absent through
   * Sentinel, whose clients move between masters: readers then read every document afresh.
   */
  tracking?: RedisClient;
}

export interface RedisOptions {
  /** The bound (ms) on connecting and on each command (REDIS_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * What makes a connection a tracking one (RedisHandle.tracking): RESP3, so invalidations arrive on
 * the connection itself, in order with its replies, and CLIENT TRACKING ON in every handshake, with
 * each invalidated key emitted as an `invalidate` event (null: everything, after a flush).
 */
export const TRACKING_CLIENT_OPTIONS = { RESP: 3, emitInvalidate: true } as const;

/** openRedisClient's own options. */
interface ClientOptions extends RedisOptions {
  /** RESP3 with CLIENT TRACKING ON (sent again at every reconnection), emitting `invalidate` per key (null: all). */
  trackInvalidations?: boolean;
}

/** A command Redis did not answer within the bound. */
export class RedisCommandTimeoutError extends UnavailableError {
  override name = "RedisCommandTimeoutError";
  constructor(command: string, timeoutMs: number) {
    super("redis", "timed out", `Redis command ${command} timed out: no answer within ${timeoutMs} ms`);
  }
}

/** Refused without being sent: an earlier command on the connection is overdue. */
export class RedisUnresponsiveError extends UnavailableError {
  override name = "RedisUnresponsiveError";
  constructor(timeoutMs: number) {
    super("redis", "timed out", `Redis command refused unsent: an earlier one timed out (no answer within ${timeoutMs} ms) and is still unanswered`);
  }
}

/**
 * Connects and fails fast when Redis is not there: at start we would rather refuse than serve
 * without the shared matching state. Afterwards the client reconnects with backoff.
 *
 * Every command is bounded by `timeoutMs` (default 2 s: a Redis command takes well under a
 * millisecond, so 2 s only passes when Redis or the path to it is stalled, and an interactive
 * request then answers 503 within a few seconds instead of hanging). node-redis alone does not
 * bound a stalled command: its per-command `timeout` (also settable for all commands through
 * `commandOptions`) is removed once the command is written to the socket (commands-queue.js), and
 * `socketTimeout` is an inactivity timer that every write restarts, so a process writing now and
 * then (the sweeper does, every 250 ms) never trips it. Hence, together:
 * - connectTimeout: a TCP connection that does not open within the bound is retried;
 * - a deadline on every command (boundCommands): the caller gets RedisCommandTimeoutError after
 *   timeoutMs; while a command is overdue, new ones are refused at once (RedisUnresponsiveError)
 *   without being written, so the socket falls silent;
 * - socketTimeout (twice the bound): a silent socket is destroyed, which fails whatever was still
 *   waiting on it and reconnects (commands meanwhile fail at once: the offline queue is off); a
 *   reconnection whose handshake stalls is cut the same way;
 * - pingInterval (the bound): a healthy idle connection, including the pub/sub duplicates, is never
 *   silent that long, and a stalled one stops pinging (the next ping waits for the last reply).
 * Duplicates (client.duplicate(), the pub/sub subscribers) inherit the socket options, not the
 * command deadline: they only subscribe, and a silent one is replaced and resubscribed the same way.
 */
export async function connectRedis(url: string, onError: (error: Error) => void, options: RedisOptions = {}): Promise<RedisHandle> {
  const client = await openRedisClient({ url }, onError, options);
  let tracking: RedisClient;
  try {
    tracking = await openRedisClient({ url }, onError, { ...options, trackInvalidations: true });
  } catch (error) {
    client.destroy();
    throw error;
  }
  return {
    location: redactUrl(url),
    client,
    tracking,
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      await Promise.all([client, tracking].map((c) => closeClient(c, options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS)));
    },
  };
}

/**
 * Closes `client` within `timeoutMs`. node-redis queues QUIT past the command deadline and, once
 * quitting, stops reconnecting: a client closed while it was reconnecting (an idle connection after
 * an outage, say) would wait for a reply that can never come, so that one is destroyed at once; a
 * ready one is sent QUIT, whose reply is waited for at most `timeoutMs` (a quitting client no longer
 * reconnects, so nothing of it is left running).
 */
export async function closeClient(client: RedisClient, timeoutMs: number): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([client.quit().catch(() => {}), late]);
  clearTimeout(timer);
}

/** Where a Redis node is: a URL, or a host and port (a node a Sentinel named) with its password. */
export type RedisTarget = { url: string } | { host: string; port: number; password?: string };

/** One bounded client connected to `target` (see connectRedis for the bounds); fails fast if it cannot connect. */
export async function openRedisClient(target: RedisTarget, onError: (error: Error) => void, options: ClientOptions = {}): Promise<RedisClient> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  const client = createClient({
    ...("url" in target ? { url: target.url } : { password: target.password }),
    // The same client type either way: the tracking connection is only read through sendCommand.
    ...((options.trackInvalidations ? TRACKING_CLIENT_OPTIONS : {}) as object),
    // While Redis is unreachable, fail commands at once (the API answers 503 with Retry-After)
    // instead of queueing them and leaving callers hanging.
    disableOfflineQueue: true,
    // No CLIENT SETINFO in the handshake: node-redis ignores its failure, so when a stalled handshake
    // is cut by socketTimeout it would still declare the dead socket ready, and commands written to
    // it would never be answered, even after Redis is back.
    disableClientInfo: true,
    pingInterval: timeoutMs,
    socket: {
      ...("url" in target ? {} : { host: target.host, port: target.port }),
      connectTimeout: timeoutMs,
      socketTimeout: 2 * timeoutMs,
      // Always reconnect (node-redis's default strategy gives up after a socket timeout).
      reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 2_000),
    },
  });
  client.on("error", onError);
  boundCommands(client, timeoutMs);
  await connectOrFail(client, Math.max(5_000, 2 * timeoutMs));
  return client;
}

/**
 * Puts a deadline on every command of `client` (everything but MULTI and pipelines, which the
 * client queues itself and this project does not use). A command past its deadline rejects; its
 * reply, if one ever comes, is still read in order, so later replies stay matched to their commands.
 */
/** How many fresh deadlines a command gets when its timer fired late because the process was blocked. */
const MAX_REARMS = 3;

function boundCommands(client: RedisClient, timeoutMs: number): void {
  type SendCommand = (args: ReadonlyArray<unknown>, options?: unknown) => Promise<unknown>;
  // createClient returns an object whose prototype is the client proper (`_self`), and every command
  // calls `this._self.sendCommand`: the deadline goes there, so it covers the object we hand out too.
  const self = ((client as unknown as { _self?: { sendCommand: SendCommand } })._self ?? client) as unknown as { sendCommand: SendCommand };
  const send = self.sendCommand.bind(self);
  let overdue = 0;
  // Refusing stops once the socket has had time to time out and be replaced (socketTimeout is twice
  // the bound), so a connection that somehow never settles its overdue commands costs each later
  // command its own deadline, never a permanent refusal.
  let refuseUntil = 0;
  const bounded: SendCommand = (args, options) => {
    if (overdue > 0 && Date.now() < refuseUntil) return Promise.reject(new RedisUnresponsiveError(timeoutMs));
    const reply = send(args, options);
    return new Promise((resolve, reject) => {
      let late = false;
      let settled = false;
      let dueAt = Date.now() + timeoutMs;
      let rearmed = 0;
      const expire = () => {
        // The process itself was blocked well past the deadline (this timer fires that late): the
        // command may not even have been written yet (node-redis writes on setImmediate), so Redis
        // has had no fair time. It gets a fresh deadline from now, a few times at most, so the
        // bound measures Redis, not our own event loop.
        if (Date.now() - dueAt > timeoutMs / 2 && rearmed < MAX_REARMS) {
          rearmed++;
          dueAt = Date.now() + timeoutMs;
          timer = setTimeout(expire, timeoutMs);
          return;
        }
        // A busy process runs its timers before it reads its sockets: the reply may be waiting
        // unread. setImmediate runs after the next poll phase, so replies already here settle
        // first and only a command Redis really has not answered is declared late.
        setImmediate(() => {
          if (settled) return;
          late = true;
          overdue += 1;
          refuseUntil = Date.now() + 3 * timeoutMs;
          reject(new RedisCommandTimeoutError(String(args[0] ?? "command"), timeoutMs));
        });
      };
      let timer = setTimeout(expire, timeoutMs);
      const settle = (finish: () => void) => {
        settled = true;
        clearTimeout(timer);
        if (late) overdue -= 1;
        else finish();
      };
      reply.then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
  };
  // Commands (client.get, scripts, ping, the ping timer) all go through it.
  self.sendCommand = bounded;
}

async function connectOrFail(client: RedisClient, withinMs: number): Promise<void> {
  // The client retries forever by default; give the first connection a deadline instead.
  // The last attempt's error says why (refused, unknown host, auth), so the deadline's message carries it.
  let lastError: Error | undefined;
  const remember = (error: Error) => {
    lastError = error;
  };
  client.on("error", remember);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`could not connect within ${withinMs / 1000} s${lastError ? ` (${lastError.message})` : ""}`)), withinMs);
  });
  try {
    await Promise.race([client.connect(), deadline]);
  } catch (error) {
    client.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
    client.off("error", remember);
  }
}

/**
 * The WebSocket endpoint `GET /v1/ws`: authenticates the upgrade (token in `?token=` or offered as
 * a Sec-WebSocket-Protocol), keeps this process's sockets by user, delivers envelopes to them, and
 * pings every socket so dead connections are noticed. A dropped advisor socket changes nothing
 * else: presence lapses by its own TTL, so a flaky mobile network does not flap availability.
 *
 * The socket is receive-only: everything a user does (a chat message, an answer to an offer) goes
 * over HTTP, whose routes already carry the idempotency key, the rate limit, zod validation and the
 * one error shape; doing it over the socket would need its own acknowledgement protocol for the
 * same guarantees. A frame a client sends anyway is answered on that socket with RECEIVE_ONLY_ERROR
 * (saying where to go instead) and otherwise ignored. What they may send is kept small: frames over
 * MAX_FRAME_BYTES are refused by ws before they are buffered (close 1009), and a socket sending
 * more than MAX_FRAMES_PER_WINDOW frames in a window is closed as a flood (1008), unanswered.
 *
 * On connect, after the `hello`, a socket gets what `onConnect` returns for its user (an advisor's
 * open offers, re-sent): offers made while the user had no socket, e.g. because the process
 * holding it died, arrive now rather than never.
 *
 * Besides its user's address, a manager's socket listens on their branch's feed (branchAddress):
 * envelopes sent there reach every manager of the branch, on whichever process they are connected.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../../core/logger.ts";
import { verifyToken, type Principal, type TokenRules } from "../auth/principal.ts";
import { branchAddress, isFeedAddress, type Envelope, type Fanout } from "./fanout.ts";
import { stubRenderer, type Render, type StubRenderer } from "./render.ts";

const WS_PATH = "/v1/ws";
const PING_INTERVAL_MS = 25_000;
/** Messages queued for a slow socket before it is dropped: protects the process, not the client. */
const MAX_BUFFERED_BYTES = 1 << 20;
/**
 * The largest frame a client may send. Clients send nothing today; this leaves room for a chat
 * message as large as the HTTP route takes (4,000 characters, at most 12 KB of UTF-8) in an envelope.
 */
export const MAX_FRAME_BYTES = 16 * 1024;
/** Frames a socket may send per window before it is closed as a flood (pongs are not frames here). */
export const MAX_FRAMES_PER_WINDOW = 20;
/** How long a flooding socket, no longer read, gets to take its close frame before it is cut. */
const FLOOD_CLOSE_GRACE_MS = 1_000;
const FRAME_WINDOW_MS = 10_000;
/**
 * The answer to each frame a client sends. Socket-only: core/errors.ts lists the codes the HTTP API
 * answers with, each with its HTTP status, and this one has none.
 */
export const RECEIVE_ONLY_ERROR = {
  type: "error",
  error: {
    code: "RECEIVE_ONLY",
    message: "this socket only delivers messages; send chat messages with POST /v1/requests/{id}/messages and act on offers over HTTP",
  },
} as const;
const RECEIVE_ONLY_DATA = JSON.stringify(RECEIVE_ONLY_ERROR);
/** RFC 6455 close code for a policy violation: here, a flood of frames. */
const CLOSE_POLICY_VIOLATION = 1008;
/** How long a new socket's live messages wait for `onConnect` before they are sent without it. */
const ON_CONNECT_TIMEOUT_MS = 5_000;

export interface RealtimeHub {
  /** Connected sockets on this process. */
  connections(): number;
  close(): Promise<void>;
}

/** One `onConnect` from several: each one's messages, in the order given (they are read at once). */
export function onConnectOf(...sources: Array<(principal: Principal) => Promise<unknown[]>>): (principal: Principal) => Promise<unknown[]> {
  return async (principal) => (await Promise.all(sources.map((source) => source(principal)))).flat();
}

const looksLikeJwt = (value: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);

/** Sent to a user's sockets to end their sessions (e.g. an offboarded advisor); the hub then closes them. */
export const SESSION_REVOKED = "session.revoked";
/** WebSocket close code for a revoked session (4000-4999 is for applications). */
const CLOSE_REVOKED = 4003;

export interface RealtimeOptions {
  /** How tokens are verified: the same rules as the HTTP API's. */
  tokenRules: TokenRules;
  fanout: Fanout;
  logger: Logger;
  pingIntervalMs?: number;
  /** A check beyond the token, e.g. that an advisor is not offboarded; false refuses with 403. */
  admit?: (principal: Principal) => Promise<boolean>;
  /**
   * Messages a socket gets when it connects, right after the `hello` (an advisor's open offers). A
   * failure, or no answer within ON_CONNECT_TIMEOUT_MS, is logged and the socket carries on without them.
   */
  onConnect?: (principal: Principal) => Promise<unknown[]>;
  /**
   * Makes the message of a stub envelope (Envelope.render), called only when one of this process's
   * sockets is addressed. Without it, stubs are not delivered.
   */
  render?: Render;
}

/** Live messages for a socket whose `onConnect` messages are not sent yet, in arrival order. */
interface Held {
  messages: string[];
  bytes: number;
}

/** One hub's state, shared by the functions below. */
interface HubState {
  options: RealtimeOptions;
  wss: WebSocketServer;
  sockets: Map<string, Set<WebSocket>>;
  /** Feed address → the sockets listening on it; kept apart from users so no subject can name a feed. */
  feeds: Map<string, Set<WebSocket>>;
  alive: WeakMap<WebSocket, boolean>;
  held: WeakMap<WebSocket, Held>;
  stubs: StubRenderer | null;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

async function onUpgrade(hub: HubState, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const { options } = hub;
  const url = new URL(request.url ?? "/", "http://localhost");
  if (url.pathname !== WS_PATH) return refuse(socket, 404, "Not Found");
  const offered = (request.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(looksLikeJwt);
  const token = url.searchParams.get("token") ?? offered[0];
  const principal = token ? await verifyToken(token, options.tokenRules) : null;
  if (!principal) return refuse(socket, 401, "Unauthorized");
  if (options.admit && !(await options.admit(principal))) return refuse(socket, 403, "Forbidden");
  hub.wss.handleUpgrade(request, socket, head, (ws) => register(hub, ws, principal));
}

/**
 * Clients only listen: what they send is not read (nor trusted), only answered with
 * RECEIVE_ONLY_ERROR so a client that tries learns where to go; a flood ends the socket.
 */
function limitFrames(ws: WebSocket, principal: Principal, logger: Logger): void {
  let windowStart = Date.now();
  let frames = 0;
  ws.on("message", () => {
    const now = Date.now();
    if (now - windowStart >= FRAME_WINDOW_MS) {
      windowStart = now;
      frames = 0;
    }
    if (++frames <= MAX_FRAMES_PER_WINDOW) {
      // A client that sends but never reads must not grow our buffer with answers: as in deliver.
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) ws.terminate();
      else if (ws.readyState === ws.OPEN) ws.send(RECEIVE_ONLY_DATA);
      return;
    }
    if (ws.readyState === ws.OPEN) {
      logger.warn({ sub: principal.sub, frames }, "websocket flood: closing the socket");
      ws.close(CLOSE_POLICY_VIOLATION, "too many messages");
      // Stop reading at once, but let the close frame reach the client: terminating on the next
      // frame could reset the connection before it is read, and the client would see 1006, not why.
      ws.pause();
      setTimeout(() => ws.terminate(), FLOOD_CLOSE_GRACE_MS).unref();
    }
  });
}

/** The feeds a principal's sockets listen on: a manager, their branch's. */
export function feedsOf(principal: Principal): string[] {
  return principal.role === "manager" && principal.branchId ? [branchAddress(principal.branchId)] : [];
}

/** Adds the socket under `address`; returns the function that takes it out again. */
function listen(map: Map<string, Set<WebSocket>>, address: string, ws: WebSocket): () => void {
  const listeners = map.get(address) ?? new Set<WebSocket>();
  listeners.add(ws);
  map.set(address, listeners);
  return () => {
    listeners.delete(ws);
    if (!listeners.size && map.get(address) === listeners) map.delete(address);
  };
}

function register(hub: HubState, ws: WebSocket, principal: Principal): void {
  const { alive, options } = hub;
  const stops = [listen(hub.sockets, principal.sub, ws), ...feedsOf(principal).map((feed) => listen(hub.feeds, feed, ws))];
  alive.set(ws, true);
  ws.on("pong", () => alive.set(ws, true));
  ws.on("close", () => {
    for (const stop of stops) stop();
  });
  // ws closes the socket itself on an oversized frame (1009) and reports it here.
  ws.on("error", (error) => options.logger.debug({ err: error, sub: principal.sub }, "websocket error"));
  limitFrames(ws, principal, options.logger);
  ws.send(JSON.stringify({ type: "hello", role: principal.role, sub: principal.sub }));
  if (options.onConnect) void sendOnConnect(hub, ws, principal, options.onConnect);
}

/**
 * Sends the connect messages, then whatever live messages arrived meanwhile. The socket is already
 * registered, so nothing is lost to the race with a live notification: an offer recorded before
 * onConnect reads is in its answer, and one recorded after is published after the socket was
 * registered and so is delivered live (held until the connect messages are out, so a withdrawal
 * arriving during the read still follows the re-sent offer it withdraws). An offer can arrive
 * both ways and so twice: that is accepted, clients dedupe offers by offerId.
 */
async function sendOnConnect(hub: HubState, ws: WebSocket, principal: Principal, onConnect: (principal: Principal) => Promise<unknown[]>): Promise<void> {
  const hold: Held = { messages: [], bytes: 0 };
  hub.held.set(ws, hold);
  let timer: NodeJS.Timeout | undefined;
  let messages: unknown[] = [];
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`onConnect gave no answer within ${ON_CONNECT_TIMEOUT_MS} ms`)), ON_CONNECT_TIMEOUT_MS);
      timer.unref();
    });
    messages = await Promise.race([onConnect(principal), timedOut]);
  } catch (error) {
    hub.options.logger.error({ err: error, sub: principal.sub }, "websocket connect messages failed; the socket stays open without them");
  } finally {
    clearTimeout(timer);
    hub.held.delete(ws);
  }
  if (ws.readyState !== ws.OPEN) return;
  for (const message of messages) ws.send(JSON.stringify(message));
  for (const data of hold.messages) ws.send(data);
}

function deliver(hub: HubState, envelope: Envelope): void {
  if (envelope.render) {
    // Rendered only where one of the addressed users has a socket (users, never feeds).
    if (envelope.to.some((address) => !isFeedAddress(address) && (hub.sockets.get(address)?.size ?? 0) > 0)) hub.stubs?.render(envelope);
    return;
  }
  // Every process receives every envelope: serialise only once a local socket is found.
  let data: string | undefined;
  for (const address of envelope.to) {
    for (const ws of (isFeedAddress(address) ? hub.feeds : hub.sockets).get(address) ?? []) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.terminate();
        continue;
      }
      data ??= JSON.stringify(envelope.message);
      const hold = hub.held.get(ws);
      if (hold && envelope.message.type !== SESSION_REVOKED) {
        hold.messages.push(data);
        hold.bytes += data.length;
        if (hold.bytes > MAX_BUFFERED_BYTES) ws.terminate();
        continue;
      }
      ws.send(data);
      if (envelope.message.type === SESSION_REVOKED) ws.close(CLOSE_REVOKED, "session revoked");
    }
  }
}

/** Pings every socket; one that has not answered the previous ping is ended. */
function pingAll(hub: HubState): void {
  for (const ws of hub.wss.clients) {
    if (hub.alive.get(ws) === false) {
      ws.terminate();
      continue;
    }
    hub.alive.set(ws, false);
    ws.ping();
  }
}

export function attachRealtime(server: Server, options: RealtimeOptions): RealtimeHub {
  const { fanout, logger } = options;
  // The subprotocol to echo back is the token the client offered (browsers cannot set headers).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => [...protocols].find(looksLikeJwt) ?? false,
  });
  const hub: HubState = { options, wss, sockets: new Map(), feeds: new Map(), alive: new WeakMap(), held: new WeakMap(), stubs: null };
  if (options.render) hub.stubs = stubRenderer(options.render, (envelope) => deliver(hub, envelope), logger);
  fanout.onEnvelope((envelope) => deliver(hub, envelope));
  const pinger = setInterval(() => pingAll(hub), options.pingIntervalMs ?? PING_INTERVAL_MS);
  pinger.unref();

  const upgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(hub, request, socket, head).catch((error) => {
      logger.error({ err: error }, "websocket upgrade failed");
      refuse(socket, 500, "Internal Server Error");
    });
  };
  server.on("upgrade", upgradeListener);

  return {
    connections: () => wss.clients.size,
    async close() {
      clearInterval(pinger);
      server.off("upgrade", upgradeListener);
      for (const ws of wss.clients) ws.close(1001, "server shutting down");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await fanout.close();
    },
  };
}

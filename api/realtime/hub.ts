/**
 * The WebSocket endpoint `GET /v1/ws`: authenticates the upgrade (token in `?token=` or offered as
 * a Sec-WebSocket-Protocol), keeps this process's sockets by user, delivers envelopes to them, and
 * pings every socket so dead connections are noticed. A dropped advisor socket changes nothing
 * else: presence lapses by its own TTL, so a flaky mobile network does not flap availability.
 *
 * Clients only listen, so what they may send is kept small: frames over MAX_FRAME_BYTES are
 * refused by ws before they are buffered (close 1009), and a socket sending more than
 * MAX_FRAMES_PER_WINDOW frames in a window is closed as a flood (1008).
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../../core/logger.ts";
import { verifyToken, type Principal, type TokenRules } from "../auth/principal.ts";
import type { Envelope, Fanout } from "./fanout.ts";

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
const FRAME_WINDOW_MS = 10_000;
/** RFC 6455 close code for a policy violation: here, a flood of frames. */
const CLOSE_POLICY_VIOLATION = 1008;

export interface RealtimeHub {
  /** Connected sockets on this process. */
  connections(): number;
  close(): Promise<void>;
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
}

export function attachRealtime(server: Server, options: RealtimeOptions): RealtimeHub {
  const { fanout, logger } = options;
  const sockets = new Map<string, Set<WebSocket>>();
  const alive = new WeakMap<WebSocket, boolean>();
  // The subprotocol to echo back is the token the client offered (browsers cannot set headers).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    handleProtocols: (protocols) => [...protocols].find(looksLikeJwt) ?? false,
  });

  const refuse = (socket: Duplex, status: number, reason: string) => {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  };

  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (url.pathname !== WS_PATH) return refuse(socket, 404, "Not Found");
    const offered = (request.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim()).filter(looksLikeJwt);
    const token = url.searchParams.get("token") ?? offered[0];
    const principal = token ? await verifyToken(token, options.tokenRules) : null;
    if (!principal) return refuse(socket, 401, "Unauthorized");
    if (options.admit && !(await options.admit(principal))) return refuse(socket, 403, "Forbidden");
    wss.handleUpgrade(request, socket, head, (ws) => register(ws, principal));
  };

  const register = (ws: WebSocket, principal: Principal) => {
    const mine = sockets.get(principal.sub) ?? new Set<WebSocket>();
    mine.add(ws);
    sockets.set(principal.sub, mine);
    alive.set(ws, true);
    ws.on("pong", () => alive.set(ws, true));
    ws.on("close", () => {
      mine.delete(ws);
      if (!mine.size) sockets.delete(principal.sub);
    });
    // ws closes the socket itself on an oversized frame (1009) and reports it here.
    ws.on("error", (error) => logger.debug({ err: error, sub: principal.sub }, "websocket error"));
    // Clients only listen; anything they send is ignored rather than trusted, and a flood ends the socket.
    let windowStart = Date.now();
    let frames = 0;
    ws.on("message", () => {
      const now = Date.now();
      if (now - windowStart >= FRAME_WINDOW_MS) {
        windowStart = now;
        frames = 0;
      }
      if (++frames <= MAX_FRAMES_PER_WINDOW) return;
      if (ws.readyState === ws.OPEN) {
        logger.warn({ sub: principal.sub, frames }, "websocket flood: closing the socket");
        ws.close(CLOSE_POLICY_VIOLATION, "too many messages");
      } else ws.terminate(); // still sending after the close frame: stop reading at once

    });
    ws.send(JSON.stringify({ type: "hello", role: principal.role, sub: principal.sub }));
  };

  const deliver = (envelope: Envelope) => {
    // Every process receives every envelope: serialise only once a local socket is found.
    let data: string | undefined;
    for (const userId of envelope.to) {
      for (const ws of sockets.get(userId) ?? []) {
        if (ws.readyState !== ws.OPEN) continue;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          ws.terminate();
          continue;
        }
        data ??= JSON.stringify(envelope.message);
        ws.send(data);
        if (envelope.message.type === SESSION_REVOKED) ws.close(CLOSE_REVOKED, "session revoked");
      }
    }
  };
  fanout.onEnvelope(deliver);

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, options.pingIntervalMs ?? PING_INTERVAL_MS);
  pinger.unref();

  const upgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(request, socket, head).catch((error) => {
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

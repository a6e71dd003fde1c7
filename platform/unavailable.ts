/**
 * Recognising "a backing service is unavailable, try again shortly" in whatever a library threw:
 * connection refused or lost, a connect, statement or command timeout, a pool with no free
 * connection, a server shutting down or out of connections. The API answers these with 503
 * UNAVAILABLE and Retry-After; everything else stays a 500. One place, so every route and every
 * library agrees.
 *
 * What each library throws (read from node_modules, versions in package-lock.json):
 * - pg / pg-pool: plain Errors without a code: "Connection terminated unexpectedly" (socket closed),
 *   "Connection terminated due to connection timeout" (connectionTimeoutMillis while opening; the
 *   socket error as cause), "timeout exceeded when trying to connect" (no free pooled connection
 *   within connectionTimeoutMillis), "Query read timeout" (query_timeout), "timeout expired"
 *   (a lone Client's connect timeout), "Client has encountered a connection error and is not
 *   queryable", "Client was closed and is not queryable", "Cannot use a pool after calling end on
 *   the pool"; socket errors carry Node's code (ECONNREFUSED, ECONNRESET, EPIPE, ...); server errors
 *   carry the SQLSTATE in `code` and a `severity`.
 * - @prisma/adapter-pg converts socket errors to DriverAdapterError kinds (ECONNREFUSED/ENOTFOUND →
 *   DatabaseNotReachable, ECONNRESET → ConnectionClosed, ETIMEDOUT → SocketTimeout), SQLSTATE 53300
 *   → TooManyConnections, any other SQLSTATE → kind "postgres" with the code, and rethrows anything
 *   else (every pg message above) as it is, so those reach the route unwrapped.
 * - @prisma/client turns adapter kinds into known-request errors: P1001 "Can't reach database server",
 *   P1008 "Operation has timed out", P1017 "Server has closed the connection.", P2037 "Too many
 *   database connections opened"; a raw query wraps the same as P2010 (and P2039) with the adapter
 *   error in `meta.driverAdapterError`. P1002 and P2024 (pool timeout) come from the query engine of
 *   earlier Prisma versions and mean the same. P2028 "Transaction API error" is a 503 only for
 *   "Unable to start a transaction in the given time" (maxWait: no connection) and for an expired
 *   transaction (its timeout passed, the database being slow); its other messages are bugs.
 * - PGlite: "PGlite is closed" / "PGlite is closing" (a request racing shutdown).
 * - node-redis v5 (its errors keep the name "Error"; they are told apart by class): ClientClosedError
 *   "The client is closed", ClientOfflineError "The client is offline" (reconnecting, offline queue
 *   off), SocketClosedUnexpectedlyError, ConnectionTimeoutError "Connection timeout",
 *   SocketTimeoutError, TimeoutError and AbortError (a command's timeout or abort signal),
 *   DisconnectsClientError, ReconnectStrategyError, RootNodesUnavailableError; server replies
 *   LOADING, BUSY, MASTERDOWN, CLUSTERDOWN, TRYAGAIN and READONLY (a failover) mean the same.
 * - Our own bounds (platform/redis.ts) throw UnavailableError; the matching store throws
 *   LiveStateUnavailableError while its lost live state is rebuilt (matching/store/port.ts).
 *
 * Causes are followed: `cause`, AggregateError's `errors` (Node's connect tries every address),
 * ReconnectStrategyError's `originalError`, and Prisma's `meta.driverAdapterError`.
 */
import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from "redis";
import { LiveStateUnavailableError } from "../core/liveState.ts";

export type Dependency = "database" | "redis";

/** What an operator reads in the log line; never sent to API callers. */
export type UnavailableReason =
  | "connection refused"
  | "connection lost"
  | "timed out"
  | "no free connection"
  | "host not found"
  | "shutting down"
  | "overloaded";

export interface Unavailable {
  /** Which dependency, when the error says; undefined for a bare socket error. */
  dependency?: Dependency;
  reason: UnavailableReason;
}

/** Thrown by our own bounds on dependency calls; always a 503. */
export class UnavailableError extends Error {
  override name = "UnavailableError";
  constructor(
    readonly dependency: Dependency,
    readonly reason: UnavailableReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Node's socket and DNS error codes: the peer cannot be reached or went away. */
const SOCKET_CODES: Record<string, UnavailableReason> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection lost",
  ECONNABORTED: "connection lost",
  EPIPE: "connection lost",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "connection refused",
  EHOSTDOWN: "connection refused",
  ENETUNREACH: "connection refused",
  ENETDOWN: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
};

/**
 * SQLSTATEs (PostgreSQL and PGlite server errors) that mean the server cannot serve now: connection
 * exceptions (class 08), insufficient resources (class 53: too many connections, out of memory),
 * shutdown or recovery (57P01-57P03), a session ended by the server's idle timeouts (25P03, 57P05),
 * and a statement cancelled by statement_timeout or lock_timeout (57014, 55P03).
 */
function sqlstateReason(code: string): UnavailableReason | null {
  if (/^08(000|001|003|004|006|007)$/.test(code)) return "connection lost";
  if (code === "53300") return "no free connection";
  if (/^53\d{3}$/.test(code)) return "overloaded";
  if (/^57P0[123]$/.test(code)) return "shutting down";
  if (code === "25P03" || code === "57P05") return "connection lost";
  if (code === "57014" || code === "55P03") return "timed out";
  return null;
}

/** DriverAdapterError kinds (@prisma/driver-adapter-utils) for an unreachable or lost database. */
const ADAPTER_KINDS: Record<string, UnavailableReason> = {
  DatabaseNotReachable: "connection refused",
  ConnectionClosed: "connection lost",
  SocketTimeout: "timed out",
  TooManyConnections: "no free connection",
};

/** Prisma error codes for the same, whichever engine raised them. */
const PRISMA_CODES: Record<string, UnavailableReason> = {
  P1001: "connection refused", // Can't reach database server
  P1002: "timed out", // The database server was reached but timed out
  P1008: "timed out", // Operation has timed out
  P1017: "connection lost", // Server has closed the connection
  P2024: "no free connection", // Timed out fetching a new connection from the connection pool
  P2037: "no free connection", // Too many database connections opened
};

/** pg, pg-pool and PGlite messages (exact library text, no codes attached). */
const DATABASE_MESSAGES: Array<[RegExp, UnavailableReason]> = [
  [/^Connection terminated due to connection timeout$/, "timed out"],
  [/^Connection terminated( unexpectedly)?$/, "connection lost"],
  [/^timeout exceeded when trying to connect$/, "no free connection"],
  [/^Query read timeout$/, "timed out"],
  [/^timeout expired$/, "timed out"],
  [/^Client has encountered a connection error and is not queryable$/, "connection lost"],
  [/^Client was closed and is not queryable$/, "shutting down"],
  [/^Cannot use a pool after calling end on the pool$/, "shutting down"],
  [/^PGlite is clos(ed|ing)$/, "shutting down"],
  [/Can't reach database server/, "connection refused"],
  [/^Server has closed the connection/, "connection lost"],
];

/** Redis replies meaning "not now": loading after a restart, a busy script, a failover in progress. */
const REDIS_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/;

function redisReason(error: Error): UnavailableReason | null {
  if (error instanceof ClientOfflineError || error instanceof SocketClosedUnexpectedlyError || error instanceof DisconnectsClientError)
    return "connection lost";
  if (error instanceof ClientClosedError) return "shutting down";
  if (error instanceof ConnectionTimeoutError || error instanceof SocketTimeoutError || error instanceof TimeoutError || error instanceof AbortError)
    return "timed out";
  if (error instanceof ReconnectStrategyError || error instanceof RootNodesUnavailableError) return "connection refused";
  if (error instanceof ErrorReply && REDIS_REPLY.test(error.message)) return "overloaded";
  return null;
}

function prismaReason(error: Error & { code?: unknown; errorCode?: unknown }): UnavailableReason | null {
  if (!/^PrismaClient/.test(error.name)) return null;
  const code = typeof error.code === "string" ? error.code : typeof error.errorCode === "string" ? error.errorCode : undefined;
  if (code === undefined) return null;
  if (code in PRISMA_CODES) return PRISMA_CODES[code]!;
  if (code === "P2028") {
    if (/Unable to start a transaction in the given time/.test(error.message)) return "no free connection";
    if (/expired transaction/.test(error.message)) return "timed out";
  }
  return null;
}

/** A DriverAdapterError's cause: a plain object with the kind and, for server errors, the SQLSTATE. */
function adapterCauseReason(cause: unknown): UnavailableReason | null {
  if (!cause || typeof cause !== "object") return null;
  const { kind, originalCode, code } = cause as { kind?: unknown; originalCode?: unknown; code?: unknown };
  if (typeof kind === "string" && kind in ADAPTER_KINDS) return ADAPTER_KINDS[kind]!;
  for (const sqlstate of [originalCode, code]) {
    if (typeof sqlstate === "string") {
      const reason = sqlstateReason(sqlstate);
      if (reason) return reason;
    }
  }
  return null;
}

function ownReason(error: unknown): Unavailable | null {
  // Prisma's meta keeps the DriverAdapterError; after a serialisation boundary it is a plain object.
  if (error && typeof error === "object" && (error as { name?: unknown }).name === "DriverAdapterError") {
    const reason = adapterCauseReason((error as { cause?: unknown }).cause);
    return reason ? { dependency: "database", reason } : null;
  }
  if (!(error instanceof Error)) return null;
  if (error instanceof UnavailableError) return { dependency: error.dependency, reason: error.reason };
  // Redis lost the live matching state and a rebuild is under way: decisions are fenced until it ends.
  if (error instanceof LiveStateUnavailableError) return { dependency: "redis", reason: "overloaded" };

  const redis = redisReason(error);
  if (redis) return { dependency: "redis", reason: redis };

  const prisma = prismaReason(error);
  if (prisma) return { dependency: "database", reason: prisma };

  const { code, severity } = error as { code?: unknown; severity?: unknown };
  if (typeof code === "string") {
    if (code in SOCKET_CODES) return { reason: SOCKET_CODES[code]! };
    // pg's and PGlite's DatabaseError: a server error with its SQLSTATE and severity.
    if (typeof severity === "string") {
      const reason = sqlstateReason(code);
      if (reason) return { dependency: "database", reason };
    }
  }

  for (const [pattern, reason] of DATABASE_MESSAGES) {
    if (pattern.test(error.message)) return { dependency: "database", reason };
  }
  return null;
}

/** What to look at next: causes, aggregated attempts, and the adapter error Prisma keeps in meta. */
function nested(error: unknown): unknown[] {
  if (!error || typeof error !== "object") return [];
  const e = error as { cause?: unknown; errors?: unknown; originalError?: unknown; meta?: { driverAdapterError?: unknown } };
  const next: unknown[] = [];
  if (e.cause !== undefined) next.push(e.cause);
  if (Array.isArray(e.errors)) next.push(...e.errors);
  if (e.originalError !== undefined) next.push(e.originalError);
  if (e.meta?.driverAdapterError !== undefined) next.push(e.meta.driverAdapterError);
  return next;
}

/**
 * Whether `error` (or anything it wraps) means a dependency is unavailable, and which and why; null
 * for everything else (a bug, a constraint violation, bad input), which must stay what it was.
 */
export function classifyUnavailable(error: unknown): Unavailable | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  // Bounded: cause chains are short, but a cyclic or hostile one must not hang the error handler.
  while (queue.length && seen.size < 32) {
    const current = queue.shift();
    if (seen.has(current)) continue;
    seen.add(current);
    const found = ownReason(current);
    if (found) return found;
    queue.push(...nested(current));
  }
  return null;
}

export const isUnavailable = (error: unknown): boolean => classifyUnavailable(error) !== null;

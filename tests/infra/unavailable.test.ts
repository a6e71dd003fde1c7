/**
 * The classifier of "a dependency is unavailable" (platform/unavailable.ts) against the errors the
 * libraries really throw: produced by the libraries themselves where that is cheap (a refused port,
 * a server that accepts and never answers, a client that is closed) and otherwise constructed the
 * way the library constructs them. Ordinary bugs must stay 500s. Needs no services.
 */
import net from "node:net";
import { Hono } from "hono";
import pg from "pg";
import { DriverAdapterError } from "@prisma/driver-adapter-utils";
import {
  AbortError,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  createClient,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOnError } from "../../api/errors.ts";
import { AppError } from "../../core/errors.ts";
import { createLogger } from "../../core/logger.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { openPostgres, type Database } from "../../platform/database.ts";
import { RedisCommandTimeoutError, RedisUnresponsiveError } from "../../platform/redis.ts";
import { classifyUnavailable, isUnavailable } from "../../platform/unavailable.ts";
import { LiveStateUnavailableError } from "../../matching/store/port.ts";

const CLIENT_VERSION = "7.10.0";
const known = (message: string, code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError(message, { code, clientVersion: CLIENT_VERSION, meta });
/** A Node socket error as net reports it. */
const socketError = (code: string, syscall: string, errno: number) => Object.assign(new Error(`${syscall} ${code}`), { code, syscall, errno });
/** A server error as pg (pg-protocol's DatabaseError) reports it. */
const serverError = (message: string, code: string, severity = "FATAL") =>
  Object.assign(new pg.DatabaseError(message, message.length, "error"), { code, severity });

async function rejection(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** A TCP server that accepts connections and never says anything: a stalled peer. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("what the libraries throw when a dependency is unreachable", () => {
  let refused: Database;
  let silent: Awaited<ReturnType<typeof silentServer>>;

  beforeAll(async () => {
    // Port 1 refuses at once on any machine: real errors from pg, adapter-pg and Prisma.
    refused = await openPostgres("postgresql://postgres@127.0.0.1:1/none", { poolSize: 1, timeoutMs: 500 });
    silent = await silentServer();
  });
  afterAll(async () => {
    await refused?.close();
    await silent?.close();
  });

  it("Prisma on a refused PostgreSQL: raw queries (P2010), transactions (P1001) and model queries", async () => {
    const raw = await rejection(() => refused.prisma.$queryRawUnsafe("SELECT 1"));
    expect(raw).toMatchObject({ code: "P2010" });
    expect(classifyUnavailable(raw)).toEqual({ dependency: "database", reason: "connection refused" });
    const tx = await rejection(() => refused.prisma.$transaction(async (t) => t.$queryRawUnsafe("SELECT 1")));
    expect(tx).toMatchObject({ code: "P1001" });
    expect(classifyUnavailable(tx)).toEqual({ dependency: "database", reason: "connection refused" });
    const model = await rejection(() => refused.prisma.branch.findFirst());
    expect(isUnavailable(model)).toBe(true);
    const batch = await rejection(() => refused.prisma.$transaction([refused.prisma.branch.count()]));
    expect(isUnavailable(batch)).toBe(true);
  });

  it("plain statements (Database.sql) on a refused and on a silent PostgreSQL: unavailable, within the statement bound", async () => {
    const raw = await rejection(() => refused.sql.query("SELECT 1"));
    expect(classifyUnavailable(raw)).toEqual({ dependency: "database", reason: "connection refused" });
    const stalled = await openPostgres(`postgresql://postgres@127.0.0.1:${silent.port}/none`, { poolSize: 1, timeoutMs: 300 });
    try {
      const started = Date.now();
      const hung = await rejection(() => stalled.sql.query("SELECT 1"));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(classifyUnavailable(hung)?.dependency).toBe("database");
    } finally {
      await stalled.close();
    }
  });

  it("pg against a server that accepts and never answers: connect timeout, and a pool with no free connection", async () => {
    const pool = new pg.Pool({ host: "127.0.0.1", port: silent.port, max: 1, connectionTimeoutMillis: 200 });
    try {
      const [opening, waiting] = await Promise.all([rejection(() => pool.connect()), rejection(() => pool.connect())]);
      // pg-pool: the first opens (and times out), the second waits for a free slot (and times out).
      const messages = [opening, waiting].map((e) => (e as Error).message).sort();
      expect(messages).toEqual(["Connection terminated due to connection timeout", "timeout exceeded when trying to connect"]);
      expect(classifyUnavailable(opening)?.dependency).toBe("database");
      expect(classifyUnavailable(waiting)).toEqual({ dependency: "database", reason: "no free connection" });
      const lone = new pg.Client({ host: "127.0.0.1", port: silent.port, connectionTimeoutMillis: 200 });
      const loneError = await rejection(() => lone.connect());
      expect(isUnavailable(loneError)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it("node-redis: a closed client, and a client whose connection is refused", async () => {
    const closed = createClient({ url: "redis://127.0.0.1:1" });
    const closedError = await rejection(() => closed.get("k"));
    expect(closedError).toBeInstanceOf(ClientClosedError);
    expect(classifyUnavailable(closedError)).toEqual({ dependency: "redis", reason: "shutting down" });

    const refusedClient = createClient({ url: "redis://127.0.0.1:1", socket: { reconnectStrategy: false } });
    refusedClient.on("error", () => {});
    const connectError = await rejection(() => refusedClient.connect());
    expect(classifyUnavailable(connectError)?.reason).toBe("connection refused");
  });

  it("a Node socket error of any kind: refused, reset, broken pipe, timed out, unreachable, DNS", () => {
    for (const [code, syscall] of [
      ["ECONNREFUSED", "connect"],
      ["ECONNRESET", "read"],
      ["EPIPE", "write"],
      ["ETIMEDOUT", "read"],
      ["EHOSTUNREACH", "connect"],
      ["ENETUNREACH", "connect"],
      ["ENOTFOUND", "getaddrinfo"],
      ["EAI_AGAIN", "getaddrinfo"],
    ] as const) {
      expect(isUnavailable(socketError(code, syscall, -1)), code).toBe(true);
    }
    // Node's connect tries every address of a name and reports them together.
    const both = new AggregateError([socketError("ECONNREFUSED", "connect", -111), socketError("ECONNREFUSED", "connect", -111)], "");
    expect(classifyUnavailable(both)?.reason).toBe("connection refused");
  });
});

describe("classifyUnavailable, for errors constructed as the libraries construct them", () => {
  it("pg and pg-pool messages, with and without a cause", () => {
    const cases: Array<[Error, string]> = [
      [new Error("Connection terminated unexpectedly"), "connection lost"],
      [new Error("Connection terminated due to connection timeout", { cause: new Error("Connection terminated unexpectedly") }), "timed out"],
      [new Error("timeout exceeded when trying to connect"), "no free connection"],
      [new Error("Query read timeout"), "timed out"],
      [new Error("timeout expired"), "timed out"],
      [new Error("Client has encountered a connection error and is not queryable"), "connection lost"],
      [new Error("Client was closed and is not queryable"), "shutting down"],
      [new Error("Cannot use a pool after calling end on the pool"), "shutting down"],
      [new Error("PGlite is closed"), "shutting down"],
    ];
    for (const [error, reason] of cases) expect(classifyUnavailable(error), error.message).toEqual({ dependency: "database", reason });
  });

  it("PostgreSQL server errors: shutdown, too many connections, statement and lock timeouts, idle-session ends", () => {
    expect(classifyUnavailable(serverError("terminating connection due to administrator command", "57P01"))?.reason).toBe("shutting down");
    expect(classifyUnavailable(serverError("the database system is starting up", "57P03"))?.reason).toBe("shutting down");
    expect(classifyUnavailable(serverError("sorry, too many clients already", "53300"))?.reason).toBe("no free connection");
    expect(classifyUnavailable(serverError("canceling statement due to statement timeout", "57014", "ERROR"))?.reason).toBe("timed out");
    expect(classifyUnavailable(serverError("canceling statement due to lock timeout", "55P03", "ERROR"))?.reason).toBe("timed out");
    expect(classifyUnavailable(serverError("terminating connection due to idle-in-transaction timeout", "25P03"))?.reason).toBe("connection lost");
    // A constraint or a bad value is the caller's or our problem, never "unavailable".
    expect(isUnavailable(serverError("duplicate key value violates unique constraint", "23505", "ERROR"))).toBe(false);
    expect(isUnavailable(serverError("value too long", "22001", "ERROR"))).toBe(false);
  });

  it("Prisma's codes for an unreachable, lost, timed-out or exhausted database", () => {
    expect(classifyUnavailable(known("Can't reach database server at db:5432", "P1001"))?.reason).toBe("connection refused");
    expect(isUnavailable(known("Can't reach database server at `db`:`5432`", "P1002"))).toBe(true);
    expect(classifyUnavailable(known("Operation has timed out", "P1008"))?.reason).toBe("timed out");
    expect(classifyUnavailable(known("Server has closed the connection.", "P1017"))?.reason).toBe("connection lost");
    expect(classifyUnavailable(known("Timed out fetching a new connection from the connection pool.", "P2024"))?.reason).toBe("no free connection");
    expect(classifyUnavailable(known("Too many database connections opened: sorry, too many clients already", "P2037"))?.reason).toBe("no free connection");
    const init = new Prisma.PrismaClientInitializationError("Can't reach database server at db:5432", CLIENT_VERSION, "P1001");
    expect(isUnavailable(init)).toBe(true);
  });

  it("P2028 only when no transaction could start in time or it expired; its other messages are bugs", () => {
    expect(classifyUnavailable(known("Transaction API error: Unable to start a transaction in the given time.", "P2028"))?.reason).toBe("no free connection");
    const expired =
      "Transaction API error: A query cannot be executed on an expired transaction. The timeout for this transaction was 5000 ms, however 5012 ms passed since the start of the transaction.";
    expect(classifyUnavailable(known(expired, "P2028", { operation: "query", timeout: 5000, timeTaken: 5012 }))?.reason).toBe("timed out");
    expect(isUnavailable(known("Transaction API error: Transaction not found. Transaction ID is invalid.", "P2028"))).toBe(false);
    expect(isUnavailable(known("Transaction API error: Transaction already closed: A commit cannot be executed on a committed transaction.", "P2028"))).toBe(
      false,
    );
  });

  it("raw-query errors (P2010) by the driver adapter error Prisma keeps in meta", () => {
    const wrap = (cause: ConstructorParameters<typeof DriverAdapterError>[0]) =>
      known("Raw query failed.", "P2010", { driverAdapterError: new DriverAdapterError(cause) });
    expect(classifyUnavailable(wrap({ kind: "DatabaseNotReachable", host: "db", port: 5432 }))?.reason).toBe("connection refused");
    expect(classifyUnavailable(wrap({ kind: "ConnectionClosed" }))?.reason).toBe("connection lost");
    expect(classifyUnavailable(wrap({ kind: "SocketTimeout" }))?.reason).toBe("timed out");
    expect(classifyUnavailable(wrap({ kind: "TooManyConnections", cause: "sorry" }))?.reason).toBe("no free connection");
    const statementTimeout = {
      kind: "postgres",
      code: "57014",
      severity: "ERROR",
      message: "canceling statement due to statement timeout",
      originalCode: "57014",
      originalMessage: "canceling statement due to statement timeout",
    } as const;
    expect(classifyUnavailable(wrap(statementTimeout as never))?.reason).toBe("timed out");
    expect(isUnavailable(wrap({ kind: "UniqueConstraintViolation", constraint: { fields: ["id"] } }))).toBe(false);
    // The adapter error as a plain object (after a serialisation boundary) reads the same.
    expect(
      isUnavailable(known("Raw query failed.", "P2010", { driverAdapterError: { name: "DriverAdapterError", cause: { kind: "ConnectionClosed" } } })),
    ).toBe(true);
  });

  it("node-redis error classes (their name is plain 'Error') and 'not now' replies", () => {
    const cases: Array<[Error, string]> = [
      [new ClientClosedError(), "shutting down"],
      [new ClientOfflineError(), "connection lost"],
      [new SocketClosedUnexpectedlyError(), "connection lost"],
      [new DisconnectsClientError(), "connection lost"],
      [new ConnectionTimeoutError(), "timed out"],
      [new SocketTimeoutError(4000), "timed out"],
      [new TimeoutError(), "timed out"],
      [new AbortError(), "timed out"],
      [new ReconnectStrategyError(new Error("connect ECONNREFUSED 127.0.0.1:6379"), new Error("x")), "connection refused"],
      [new ErrorReply("LOADING Redis is loading the dataset in memory"), "overloaded"],
      [new ErrorReply("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."), "overloaded"],
      [new ErrorReply("READONLY You can't write against a read only replica."), "overloaded"],
      [new ErrorReply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."), "overloaded"],
      [new RedisCommandTimeoutError("EVALSHA", 2000), "timed out"],
      [new RedisUnresponsiveError(2000), "timed out"],
    ];
    for (const [error, reason] of cases)
      expect(classifyUnavailable(error), `${error.constructor.name}: ${error.message}`).toEqual({ dependency: "redis", reason });
    for (const reply of [
      "WRONGTYPE Operation against a key holding the wrong kind of value",
      "BUSYGROUP Consumer Group name already exists",
      "NOSCRIPT No matching script",
      "ERR syntax error",
    ]) {
      expect(isUnavailable(new ErrorReply(reply)), reply).toBe(false);
    }
  });

  it("follows causes, but stays null for bugs, bad input and look-alike messages", () => {
    expect(isUnavailable(new Error("recording the offer failed", { cause: new ClientOfflineError() }))).toBe(true);
    expect(classifyUnavailable(new LiveStateUnavailableError("accept"))).toEqual({ dependency: "redis", reason: "overloaded" });
    expect(isUnavailable(new Error("outer", { cause: new Error("middle", { cause: socketError("ECONNRESET", "read", -104) }) }))).toBe(true);
    for (const error of [
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      new RangeError("Invalid time value"),
      new Error("boom"),
      new Error("the offer timeout must be positive"),
      new AppError("CONFLICT", "taken"),
      known("Unique constraint failed on the fields: (`id`)", "P2002"),
      known("An operation failed because it depends on one or more records that were required but not found.", "P2025"),
      undefined,
      "a string",
      { code: "ECONNREFUSED" },
    ]) {
      expect(classifyUnavailable(error), String(error)).toBeNull();
    }
    const cyclic = new Error("a") as Error & { cause?: unknown };
    cyclic.cause = new Error("b", { cause: cyclic });
    expect(classifyUnavailable(cyclic)).toBeNull();
  });
});

describe("the API's error handler", () => {
  const app = new Hono();
  const throwing: Record<string, () => unknown> = {
    pg: () => {
      throw new Error("Connection terminated unexpectedly");
    },
    pool: () => {
      throw known("Transaction API error: Unable to start a transaction in the given time.", "P2028");
    },
    redis: () => {
      throw new ClientOfflineError();
    },
    rebuilding: () => {
      throw new LiveStateUnavailableError("accept");
    },
    // A port that looks like a class-22 SQLSTATE must not turn a lost database into the caller's 400.
    port: () => {
      throw known("Can't reach database server at db:22003", "P1001", {
        driverAdapterError: new DriverAdapterError({ kind: "DatabaseNotReachable", host: "db", port: 22003 }),
      });
    },
    bug: () => {
      throw new TypeError("Cannot read properties of undefined (reading 'id')");
    },
  };
  for (const [name, fn] of Object.entries(throwing)) app.get(`/${name}`, fn as never);
  app.onError(createOnError(createLogger("silent")));

  it("answers 503 UNAVAILABLE with Retry-After for every kind of unavailability", async () => {
    for (const name of ["pg", "pool", "redis", "rebuilding", "port"]) {
      const res = await app.request(`/${name}`);
      expect(res.status, name).toBe(503);
      expect(res.headers.get("retry-after"), name).toBe("5");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
    }
  });

  it("keeps an ordinary bug a 500 without Retry-After", async () => {
    const res = await app.request("/bug");
    expect(res.status).toBe(500);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INTERNAL");
  });
});

/**
 * Opens the relational store: PostgreSQL through @prisma/adapter-pg when a URL is given, otherwise
 * embedded PGlite in DATA_DIR. Both are driven through the same Prisma client and the same migrations.
 */
import fs from "node:fs";
import path from "node:path";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { DEFAULT_DATABASE_POOL_SIZE, DEFAULT_DATABASE_TIMEOUT_MS, redactUrl } from "../core/config.ts";
import { statementNames } from "./preparedStatements.ts";
import { pgliteSqlRunner, poolSqlRunner, type SqlRunner } from "./sql.ts";

export type { PrismaClient };

export interface Database {
  kind: "postgres" | "pglite";
  /** A log-safe description: the URL without its password, or the PGlite directory. */
  location: string;
  prisma: PrismaClient;
  /** The same connections, without Prisma: the hot path's few statements (platform/sql.ts). */
  sql: SqlRunner;
  /** The adapter factory migrations run through (same connection target as prisma). */
  migrationAdapter: SqlMigrationAwareDriverAdapterFactory;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Pool size per process; PostgreSQL's own max_connections bounds the sum across processes. */
  poolSize?: number;
  /**
   * The bound (ms) on opening a connection, on waiting for a free pooled one, and on each statement
   * (DATABASE_TIMEOUT_MS). Transactions get a multiple of it (see transactionOptions below).
   */
  timeoutMs?: number;
  /** Named (prepared) statements, planned once per connection (DATABASE_PREPARED_STATEMENTS, default on). */
  preparedStatements?: boolean;
}

/**
 * How much longer the client waits for an answer than the server lets a statement run: a slow but
 * alive server cancels the statement itself first (SQLSTATE 57014, the connection stays usable), and
 * the client-side read timeout only fires when nothing answers at all (a stalled connection).
 */
const QUERY_TIMEOUT_MARGIN_MS = 500;

/**
 * pg's query_timeout answers the caller but leaves the connection as it was: the unanswered statement
 * still occupies it, and when it is a transaction's, Prisma's ROLLBACK (timed out as well, or never
 * sent) fails while the connection goes back to the pool with the transaction still open on the
 * server, so the next borrower's statements would run, and commit, inside it. A connection that did
 * not answer in time is therefore destroyed: whatever else was queued on it fails at once
 * ("Connection terminated unexpectedly"), and the pool drops it on release instead of reusing it.
 */
class DiscardOnTimeoutClient extends pg.Client {
  // pg's query() has a callback form (pg-pool's pool.query) and a promise form (transactions).
  // biome-ignore lint/suspicious/noExplicitAny: overrides pg's overloaded query(), whose forms return a promise or void
  override query(...args: unknown[]): any {
    const callbackAt = args.findIndex((arg) => typeof arg === "function");
    if (callbackAt >= 0) {
      const callback = args[callbackAt] as (error: Error | undefined, result: unknown) => void;
      args[callbackAt] = (error: Error | undefined, result: unknown) => {
        this.discardAfterTimeout(error);
        callback(error, result);
      };
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const result = (super.query as (...a: unknown[]) => unknown)(...args);
    if (result instanceof Promise) result.catch((error: unknown) => this.discardAfterTimeout(error));
    return result;
  }

  private discardAfterTimeout(error: unknown): void {
    if (!(error instanceof Error) || error.message !== "Query read timeout") return;
    // After pg has finished its own timeout handling for this query.
    process.nextTick(() => (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy());
  }
}

/**
 * The pool options, all bounded, because a partition where TCP connects and nothing answers would
 * otherwise hold a request for as long as the operating system keeps the socket (minutes).
 */
export function postgresPoolConfig(url: string, options: PostgresOptions = {}): pg.PoolConfig {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
  return {
    connectionString: url,
    max: options.poolSize ?? DEFAULT_DATABASE_POOL_SIZE,
    // Opening a connection (TCP, startup, authentication), and waiting for a free one when the pool
    // is exhausted: both fail with a 503 after this instead of queueing without end.
    connectionTimeoutMillis: timeoutMs,
    // Server side: PostgreSQL cancels a statement running (or waiting for a lock) longer than this.
    statement_timeout: timeoutMs,
    // Client side: a statement the server does not answer at all (then the connection is discarded).
    query_timeout: timeoutMs + QUERY_TIMEOUT_MARGIN_MS,
    // Server side: a session left idle inside a transaction (its process hung or partitioned away)
    // is ended, releasing its locks, instead of blocking other processes until TCP gives up.
    idle_in_transaction_session_timeout: Math.max(10_000, 5 * timeoutMs),
    // Idle pooled connections are closed after 10 s (pg's default, stated), so a quiet process holds
    // few of PostgreSQL's connections; keep-alive probes notice a dead peer on the ones it keeps.
    idleTimeoutMillis: 10_000,
    keepAlive: true,
    Client: DiscardOnTimeoutClient as unknown as pg.PoolConfig["Client"],
  };
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const timeoutMs = options.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
  // adapter-pg ships its own copy of pg's typings; the runtime pg module is the same one.
  const naming = options.preparedStatements === false ? undefined : statementNames();
  // One pool for Prisma and the plain statements (sql), so DATABASE_POOL_SIZE bounds both; ended
  // with Prisma's disconnect (disposeExternalPool).
  const pool = new pg.Pool(postgresPoolConfig(url, options));
  // A connection that fails while idle must not crash the process before Prisma listens on the pool.
  pool.on("error", () => {});
  const adapter = new PrismaPg(pool as unknown as ConstructorParameters<typeof PrismaPg>[0], {
    // adapter-pg types the generator as always naming; undefined runs a statement unnamed, as pg does.
    ...(naming ? { statementNameGenerator: naming as (query: { sql: string }) => string } : {}),
    disposeExternalPool: true,
  });
  const prisma = new PrismaClient({
    adapter,
    // Defaults for every $transaction that does not pass its own (long jobs do): wait for a connection
    // as long as the pool would, and let the whole transaction, a handful of bounded statements, run
    // for 2.5 times that, never less than Prisma's own 5 s default. Past either: P2028, a 503.
    transactionOptions: { maxWait: timeoutMs, timeout: Math.max(5_000, Math.round(2.5 * timeoutMs)) },
  });
  // Migrations get a pool of their own without statement bounds: building an index on a large table
  // can rightly take minutes, and `npm run db:migrate` is an operator's explicit step, not a request.
  const migrationAdapter = new PrismaPg({ connectionString: url, max: 2, connectionTimeoutMillis: timeoutMs, keepAlive: true });
  return {
    kind: "postgres",
    location: redactUrl(url),
    prisma,
    sql: poolSqlRunner(pool, naming),
    migrationAdapter: migrationAdapter as unknown as SqlMigrationAwareDriverAdapterFactory,
    ping: async () => {
      await prisma.$queryRawUnsafe("SELECT 1");
    },
    close: async () => {
      await prisma.$disconnect();
      // Prisma ends the pool only when it had connected; sql may have used it without.
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * Embedded PGlite. `dir` undefined opens a throw-away in-memory database (tests). A directory is
 * locked against a second process: PGlite is single-process and two writers would corrupt it.
 */
export async function openPglite(dir?: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  let releaseLock = () => {};
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    releaseLock = lockDirectory(dir);
  }
  try {
    const pg = dir ? new PGlite(path.join(dir, "pglite")) : new PGlite();
    await pg.waitReady;
    const adapter = new PrismaPGlite(pg);
    const prisma = new PrismaClient({ adapter });
    return {
      kind: "pglite",
      location: dir ? path.resolve(dir, "pglite") : "memory",
      prisma,
      sql: pgliteSqlRunner(pg),
      migrationAdapter: adapter as unknown as SqlMigrationAwareDriverAdapterFactory,
      ping: async () => {
        await pg.query("SELECT 1");
      },
      close: async () => {
        await prisma.$disconnect();
        if (!pg.closed) await pg.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

function lockDirectory(dir: string): () => void {
  const lockPath = path.join(dir, "server.lock");
  const tryTake = () => {
    const fd = fs.openSync(lockPath, "wx");
    fs.writeSync(fd, String(process.pid));
    fs.closeSync(fd);
  };
  try {
    tryTake();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const holder = Number(fs.readFileSync(lockPath, "utf8"));
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `the embedded database in ${path.resolve(dir)} is in use by process ${holder}; ` +
          "stop it, or set DATABASE_URL and REDIS_URL to run several processes",
      );
    }
    fs.rmSync(lockPath, { force: true }); // stale: its process is gone
    tryTake();
  }
  return () => fs.rmSync(lockPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

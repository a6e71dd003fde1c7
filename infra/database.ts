/**
 * Opens the relational store: PostgreSQL through @prisma/adapter-pg when a URL is given, otherwise
 * embedded PGlite in DATA_DIR. Both are driven through the same Prisma client and the same migrations.
 */
import fs from "node:fs";
import path from "node:path";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "../generated/prisma/client.ts";
import { redactUrl } from "../core/config.ts";

export type { PrismaClient };

export interface Database {
  kind: "postgres" | "pglite";
  /** A log-safe description: the URL without its password, or the PGlite directory. */
  location: string;
  prisma: PrismaClient;
  /** The adapter factory migrations run through (same connection target as prisma). */
  migrationAdapter: SqlMigrationAwareDriverAdapterFactory;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Pool size per process; PostgreSQL's own max_connections bounds the sum across processes. */
  poolSize?: number;
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Database> {
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const adapter = new PrismaPg({ connectionString: url, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 });
  const prisma = new PrismaClient({ adapter });
  return {
    kind: "postgres",
    location: redactUrl(url),
    prisma,
    migrationAdapter: adapter as unknown as SqlMigrationAwareDriverAdapterFactory,
    ping: async () => {
      await prisma.$queryRawUnsafe("SELECT 1");
    },
    close: () => prisma.$disconnect(),
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

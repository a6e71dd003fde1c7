/**
 * Loaded into our API's process by the endToEnd bench (`node --import tsx --import <this file>`), not
 * by the server itself: counts every statement the process sends to PostgreSQL and every command it
 * sends to Redis, and writes the totals to a file on request (a signal), so the bench can tell the
 * statements and calls per completed flow without touching server code or relying on
 * pg_stat_statements (not loaded on every server) or on a Redis that other clients share.
 *
 * Where it counts:
 * - PostgreSQL: node-postgres's Client#query, which every query goes through (Prisma's adapter-pg,
 *   pool.query, raw SQL, BEGIN/COMMIT of transactions). Counted as sent, whatever the outcome.
 * - Redis: node-redis's command queue (RedisCommandsQueue#addCommand), which every command goes
 *   through, single, pipelined or in MULTI/EXEC; SUBSCRIBE and friends take another path, once at
 *   start. A Lua script counts as its one EVALSHA (or EVAL), not as the commands it runs inside.
 */
import { renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import pg from "pg";
import { CALL_COUNTS_FILE_ENV, CALL_COUNTS_SIGNAL, type CallCounts } from "./callCountsProtocol.ts";

const file = process.env[CALL_COUNTS_FILE_ENV];
if (!file) throw new Error(`countCallsPreload: ${CALL_COUNTS_FILE_ENV} is not set`);

const counts: CallCounts = { seq: 0, pgStatements: {}, redisCommands: {}, redisScripts: {} };
const bump = (table: Record<string, number>, key: string): void => {
  table[key] = (table[key] ?? 0) + 1;
};

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Replaces `proto[name]` with a wrapper that reports its arguments first. */
function tap(proto: object, name: string, onCall: (args: unknown[]) => void): void {
  const target = proto as Record<string, Method>;
  const original = target[name];
  if (typeof original !== "function") throw new Error(`countCallsPreload: no ${name} to wrap (library changed?)`);
  target[name] = function (this: unknown, ...args: unknown[]) {
    onCall(args);
    return original.apply(this, args);
  };
}

// query(text, ...), query({ text, ... }) or query(submittable with .text)
tap(pg.Client.prototype, "query", ([config]) => {
  const text = typeof config === "string" ? config : String((config as { text?: unknown } | null)?.text ?? "");
  bump(counts.pgStatements, /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? "OTHER");
});

// The queue module of the @redis/client that the installed `redis` package loads.
const requireFromRedis = createRequire(createRequire(import.meta.url).resolve("redis"));
const queueModule = requireFromRedis("@redis/client/dist/lib/client/commands-queue.js") as { default: { prototype: object } };
tap(queueModule.default.prototype, "addCommand", ([args]) => {
  const argv = args as Array<string | Buffer>;
  const name = String(argv[0]).toUpperCase();
  bump(counts.redisCommands, name);
  if (name === "EVALSHA") bump(counts.redisScripts, String(argv[1]));
});

process.on(CALL_COUNTS_SIGNAL, () => {
  counts.seq++;
  // Written whole, then renamed: the reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(counts));
  renameSync(`${file}.tmp`, file);
});

/**
 * Prisma's Wasm schema engine, driven through a driver adapter, so migrations need no native binary.
 *
 * Sharp edges handled here (each verified on Prisma 7.10 / schema-engine-wasm 8.1):
 * - the wasm-bindgen glue is a singleton: instantiate the module once per process;
 * - the engine arms a 10 s timer it never clears: unref it, or every command hangs for 10 s;
 * - the engine never disposes the connections it opens: track and close them;
 * - pglite-prisma-adapter 0.7.2 does not await migration scripts (a failing migration would be recorded
 *   as applied): await them;
 * - the PGlite shadow database is never closed: close it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm";

const require = createRequire(import.meta.url);

export const SCHEMA_PATH = path.resolve(import.meta.dirname, "..", "schema.prisma");
export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "..", "migrations");
export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

type Glue = typeof import("@prisma/schema-engine-wasm/schema_engine_bg");
let gluePromise: Promise<Glue> | undefined;

async function instantiateWasm(): Promise<Glue> {
  const glue = await import("@prisma/schema-engine-wasm/schema_engine_bg");
  const wasmPath = path.join(path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg")), "schema_engine_bg.wasm");
  const module = new WebAssembly.Module(await fs.readFile(wasmPath));
  const imports: Record<string, unknown> = { ...glue };
  for (const name of Object.keys(glue)) {
    if (name.startsWith("__wbg_setTimeout_")) {
      imports[name] = (callback: () => void, ms: number) => setTimeout(callback, ms >>> 0).unref();
    }
  }
  const instance = new WebAssembly.Instance(module, { "./schema_engine_bg.js": imports as WebAssembly.ModuleImports });
  const exports = instance.exports as unknown as { __wbindgen_start(): void };
  (glue as unknown as { __wbg_set_wasm(e: unknown): void }).__wbg_set_wasm(exports);
  exports.__wbindgen_start();
  return glue;
}

interface TrackedConnection {
  adapterName?: string;
  client?: { exec?: (sql: string) => Promise<unknown>; close?: () => Promise<void>; closed?: boolean };
  executeScript?: (script: string) => Promise<void>;
  onError?: (e: unknown) => never;
  dispose(): Promise<void>;
}

/**
 * Migration scripts run whole, as one statement batch. PGlite's adapter would not await them;
 * adapter-pg splits them on every ";", which breaks $$-quoted function bodies (triggers). So both
 * send the script in one call: PGlite's exec, or pg's simple query (one implicit transaction).
 */
function runScriptsWhole(connection: TrackedConnection): TrackedConnection {
  const client = connection.client as { exec?: (sql: string) => Promise<unknown>; query?: (sql: string) => Promise<unknown> } | undefined;
  const adapter = connection.adapterName ?? "";
  const run = /pglite/i.test(adapter) ? client?.exec : /pg/i.test(adapter) ? client?.query : undefined;
  if (typeof run === "function") {
    connection.executeScript = async (script: string) => {
      try {
        await run.call(client, script);
      } catch (error) {
        connection.onError!(error);
      }
    };
  }
  return connection;
}

/** An engine whose connections are released by dispose(). */
export interface EngineSession {
  engine: SchemaEngine;
  dispose(): Promise<void>;
}

export async function openSchemaEngine(factory: SqlMigrationAwareDriverAdapterFactory): Promise<EngineSession> {
  const opened: TrackedConnection[] = [];
  const track =
    <A extends unknown[]>(connect: (...args: A) => Promise<unknown>) =>
    async (...args: A) => {
      const connection = runScriptsWhole((await connect(...args)) as TrackedConnection);
      opened.push(connection);
      return connection;
    };
  const tracked = {
    adapterName: factory.adapterName,
    provider: factory.provider,
    connect: track(factory.connect.bind(factory)),
    connectToShadowDb: async () => {
      const shadow = await track(factory.connectToShadowDb.bind(factory))();
      const client = shadow.client;
      if (/pglite/i.test(shadow.adapterName ?? "") && typeof client?.close === "function") {
        const dispose = shadow.dispose.bind(shadow);
        shadow.dispose = async () => {
          await dispose();
          if (!client.closed) await client.close!();
        };
      }
      return shadow;
    },
  } as unknown as SqlMigrationAwareDriverAdapterFactory;

  gluePromise ??= instantiateWasm();
  const glue = await gluePromise;
  const schema = await fs.readFile(SCHEMA_PATH, "utf8");
  const engine = await glue.SchemaEngine.new({ datamodels: [[SCHEMA_PATH, schema]] } as never, () => {}, bindMigrationAwareSqlAdapterFactory(tracked));
  return {
    engine,
    async dispose() {
      engine.free();
      await Promise.all(opened.splice(0).map((c) => c.dispose()));
    },
  };
}

export async function readSchemaFile(): Promise<{ path: string; content: string }> {
  return { path: SCHEMA_PATH, content: await fs.readFile(SCHEMA_PATH, "utf8") };
}

/** The committed migrations, in Prisma's own directory layout and order. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationList> {
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok" as const, value: await fs.readFile(path.join(dir, name, "migration.sql"), "utf8") },
      },
    })),
  );
  let lock: string | null = null;
  try {
    lock = await fs.readFile(path.join(dir, "migration_lock.toml"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return { baseDir: dir, lockfile: { path: "migration_lock.toml", content: lock }, shadowDbInitScript: "", migrationDirectories } as MigrationList;
}

/**
 * The SQL that would bring the committed migrations up to schema.prisma (or to `schemaOverride`, a
 * candidate schema text), or null when they match.
 * Runs against a throw-away in-memory PGlite: a live PostgreSQL through adapter-pg is not a safe diff
 * source (it connects to the main database, and 'char'/'name' columns fail to deserialise).
 */
export async function diffMigrationsToSchema(schemaOverride?: string): Promise<string | null> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const scratch = new PGlite();
  const session = await openSchemaEngine(new PrismaPGlite(scratch) as unknown as SqlMigrationAwareDriverAdapterFactory);
  try {
    const migrations = await readMigrations();
    const schema = schemaOverride === undefined ? await readSchemaFile() : { path: SCHEMA_PATH, content: schemaOverride };
    const result = await session.engine.diff({
      from: migrations.migrationDirectories.length ? { tag: "migrations", ...migrations } : { tag: "empty" },
      to: { tag: "schemaDatamodel", files: [schema] },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    } as never);
    const sql = (result as { stdout?: string }).stdout ?? "";
    return !sql.trim() || /^-- This is an empty migration/.test(sql.trim()) ? null : sql;
  } finally {
    await session.dispose();
    await scratch.close();
  }
}

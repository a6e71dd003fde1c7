/**
 * Applying migrations and telling which are pending, for PostgreSQL and embedded PGlite alike.
 * Records `_prisma_migrations` exactly as `prisma migrate deploy` does, so either tool can take over.
 */
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { NO_FILTER, openSchemaEngine, readMigrations } from "./schemaEngine.ts";

/** Applies every committed migration not yet applied; returns the names applied now, in order. */
export async function applyMigrations(factory: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  const session = await openSchemaEngine(factory);
  try {
    const result = await session.engine.applyMigrations({ migrationsList: await readMigrations(), filters: NO_FILTER });
    return result.appliedMigrationNames;
  } finally {
    await session.dispose();
  }
}

/** Names of the committed migrations, in the order they apply. */
export async function committedMigrationNames(): Promise<string[]> {
  return (await readMigrations()).migrationDirectories.map((d) => d.path);
}

/** Anything that can run a raw query: a PrismaClient, or a transaction client. */
export interface RawQueryable {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** Committed migrations that the database has not finished applying. */
export async function pendingMigrations(db: RawQueryable, committed?: string[]): Promise<string[]> {
  const names = committed ?? (await committedMigrationNames());
  const [table] = await db.$queryRawUnsafe<{ present: boolean }[]>(`SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present`);
  if (!table?.present) return names;
  const rows = await db.$queryRawUnsafe<{ migration_name: string }[]>(
    `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const applied = new Set(rows.map((r) => r.migration_name));
  return names.filter((name) => !applied.has(name));
}

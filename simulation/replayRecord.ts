/**
 * The embedded records a policy replay runs on: one fresh record per policy, as the simulator's
 * (compare.ts), but loaded from a migrated template kept in memory instead of created and migrated
 * each time. A new PGlite's initdb and the migrations took about 2 s of a replay's every policy on
 * the 2-core machine; loading the template (a gzip of its data directory, about 5 MB) about 0.6 s.
 * The template is made on the first replay of the process and kept for the next.
 */
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaClient } from "../generated/prisma/client.ts";
import { applyMigrations } from "../prisma/tools/migrations.ts";

export interface ReplayRecord {
  prisma: PrismaClient;
  close(): Promise<void>;
}

let template: Promise<File | Blob> | null = null;

function migratedTemplate(): Promise<File | Blob> {
  template ??= (async () => {
    const { PGlite } = await import("@electric-sql/pglite");
    const { PrismaPGlite } = await import("pglite-prisma-adapter");
    const pg = new PGlite();
    try {
      await pg.waitReady;
      await applyMigrations(new PrismaPGlite(pg) as unknown as SqlMigrationAwareDriverAdapterFactory);
      return await pg.dumpDataDir("gzip");
    } finally {
      await pg.close();
    }
  })().catch((error) => {
    // A failed template is not kept: the next replay tries again.
    template = null;
    throw error;
  });
  return template;
}

/** A fresh, migrated, empty record in memory. */
export async function openReplayRecord(): Promise<ReplayRecord> {
  const loadDataDir = await migratedTemplate();
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const pg = new PGlite({ loadDataDir });
  await pg.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pg) });
  return {
    prisma,
    async close() {
      await prisma.$disconnect();
      if (!pg.closed) await pg.close();
    },
  };
}

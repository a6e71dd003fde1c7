import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diffMigrationsToSchema, MIGRATIONS_DIR, readMigrations, SCHEMA_PATH } from "../../prisma/tools/schemaEngine.ts";

describe("migrations", () => {
  it("cover schema.prisma exactly (no drift): a schema change needs `npm run db:migration -- <name>`", async () => {
    const drift = await diffMigrationsToSchema();
    expect(drift, `schema.prisma differs from the committed migrations; this SQL is missing:\n${drift}`).toBeNull();
  });

  it("the drift check notices a model added without a migration", async () => {
    const schema = await fs.readFile(SCHEMA_PATH, "utf8");
    const drift = await diffMigrationsToSchema(`${schema}\nmodel DriftProbe {\n  id String @id\n}\n`);
    expect(drift).toMatch(/CREATE TABLE "DriftProbe"/);
  });

  it("keep semicolons out of SQL comments (adapter-pg splits scripts on them)", async () => {
    const { migrationDirectories } = await readMigrations();
    expect(migrationDirectories.length).toBeGreaterThan(0);
    for (const dir of migrationDirectories) {
      const sql = await fs.readFile(path.join(MIGRATIONS_DIR, dir.path, "migration.sql"), "utf8");
      const offending = sql.split("\n").filter((line) => /^\s*--.*;/.test(line));
      expect(offending, `${dir.path}`).toEqual([]);
    }
  });
});

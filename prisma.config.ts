import { defineConfig } from "prisma/config";

// Only `prisma generate` is run through the CLI (see prisma/tools/generate-client.mjs); migrations are
// generated and applied by the project's own commands through the Wasm schema engine (prisma/tools).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://127.0.0.1:5432/unused" },
});

// Runs `prisma generate` without the native schema engine.
// Prisma 7's CLI insists on downloading a native schema-engine binary before `generate`, which this
// environment cannot fetch. `generate` never executes that binary, so pointing PRISMA_SCHEMA_ENGINE_BINARY
// at any existing file satisfies the check. We set it only for this step: migrations go through
// prisma/tools (the Wasm schema engine), never through the CLI.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve("prisma/package.json")), "build", "index.js");
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? fileURLToPath(import.meta.url) };
const result = spawnSync(process.execPath, [cli, "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);

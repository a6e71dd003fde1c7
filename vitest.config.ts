import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/globalSetup.ts"],
    // Embedded PGlite and the Wasm schema engine take a few seconds to start per file.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // 2 cores: two workers keep CPU-bound suites (property tests, PGlite) from starving each other.
    maxWorkers: 2,
  },
});

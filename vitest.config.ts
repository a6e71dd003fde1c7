import { defineConfig } from "vitest/config";

/**
 * Slow fault suites (processes killed, dependencies cut, failpoints under load) form a project of
 * their own, so they can be run alone: `npx vitest run --project faults`. The browser tests (the
 * console and /docs in headless chromium) are one too: `npx vitest run --project browser`. `npm test`
 * runs all three.
 */
const FAULT_SUITES = [
  "tests/api/processKill.test.ts",
  "tests/api/outage.test.ts",
  "tests/api/redisLoss.test.ts",
  "tests/api/sentinelFailover.test.ts",
  "tests/infra/redisSentinel.test.ts",
  "tests/infra/dependencyBounds.test.ts",
  "tests/matching/journal.test.ts",
];

const BROWSER_SUITES = ["tests/browser/*.test.ts"];

const shared = {
  // Embedded PGlite and the Wasm schema engine take a few seconds to start per file.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: "forks" as const,
};

export default defineConfig({
  test: {
    // Once for the whole run, whichever projects run: migrates the shared test database.
    globalSetup: ["tests/support/globalSetup.ts"],
    // 2 cores: two workers keep CPU-bound suites (property tests, PGlite) from starving each other.
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: "main", include: ["tests/**/*.test.ts"], exclude: [...FAULT_SUITES, ...BROWSER_SUITES] } },
      { test: { ...shared, name: "faults", include: FAULT_SUITES } },
      // Builds web/dist first when it is missing or older than its sources. Each file starts a server
      // (PGlite, demo data) and chromium: on a busy 2-core machine that can take longer than a minute.
      {
        test: { ...shared, name: "browser", include: BROWSER_SUITES, hookTimeout: 180_000, globalSetup: ["tests/browser/support/globalSetup.ts"] },
      },
    ],
  },
});

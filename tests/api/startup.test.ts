/** `npm start` as a user runs it: real processes, real ports, real backends. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";
import { freePort, startServer, waitFor200 } from "../support/server.ts";

describe("npm start: embedded default", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-start-"));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("serves /healthz and /readyz within 60 s with the demo data, then stops cleanly on SIGTERM", async () => {
    const port = await freePort();
    const server = startServer({ PORT: String(port), DATA_DIR: dataDir });
    const elapsed = await waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, server);
    expect(elapsed).toBeLessThan(60_000);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { checks: Record<string, string> };
    expect(ready.checks).toEqual({ database: "ok", redis: "not configured", migrations: "ok" });
    expect(server.output()).toMatch(/"inserted":\{"branches":3,"advisors":30,"licences":\d+,"clients":200,"dispatchPolicies":3\}/);
    expect(server.output()).toMatch(/embedded PGlite \+ in-memory matching store/);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);
  });

  it("refuses a second process on the same embedded data directory", async () => {
    const first = startServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    try {
      // The first holds the directory lock once it has logged its backends.
      const deadline = Date.now() + 30_000;
      while (!/backends:/.test(first.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(first.output()).toMatch(/backends:/);
      const second = startServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/in use by process/);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  });

  it("exits non-zero with a message naming PORT when PORT=abc", async () => {
    const server = startServer({ PORT: "abc", DATA_DIR: dataDir });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/PORT must be a whole number/);
  });
});

describeWithServices("npm start: PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  it("serves /readyz with 200 on a migrated database, with both backends named in the log", async () => {
    const port = await freePort();
    const scratch = await createScratchDatabase();
    const server = startServer({
      PORT: String(port),
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testKeyPrefix(),
      JWT_SECRET: "t".repeat(32),
    });
    try {
      await waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, server);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { checks: Record<string, string> };
      expect(ready.checks).toEqual({ database: "ok", redis: "ok", migrations: "ok" });
      expect(server.output()).toMatch(/PostgreSQL \+ Redis/);
    } finally {
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      await scratch.drop();
    }
  });

  it("refuses to start on a database with pending migrations, saying what to run", async () => {
    const scratch = await createScratchDatabase({ migrate: false });
    try {
      const server = startServer({
        PORT: String(await freePort()),
        DATABASE_URL: scratch.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: testKeyPrefix(),
      });
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(/pending migration\(s\).*npm run db:migrate/);
    } finally {
      await scratch.drop();
    }
  });
});

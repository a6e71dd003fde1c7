/** The HTTP shell in-process: health, the error shape, request ids, the OpenAPI document. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { checkReadiness, openBackends, shortReason } from "../../platform/backends.ts";

describe("health and errors (embedded backends)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-health-"));
  let server: RunningServer;
  let base: string;
  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false" }),
      createLogger("silent"),
    );
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers liveness and readiness", async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", redis: "not configured", migrations: "ok" } });
  });

  it("uses the one error shape with a request id, honouring a sane X-Request-Id", async () => {
    const res = await fetch(`${base}/nowhere`, { headers: { "x-request-id": "mobile-123" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route for GET /nowhere", requestId: "mobile-123" } });
    const generated = (await (await fetch(`${base}/nowhere`, { headers: { "x-request-id": "bad id with spaces" } })).json()) as {
      error: { requestId: string };
    };
    expect(generated.error.requestId).toMatch(/^rid_/);
  });

  it("refuses unauthenticated /v1 calls with 401 in the same shape", async () => {
    const res = await fetch(`${base}/v1/requests/req_x`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
  });

  it("serves the OpenAPI document and the docs UI", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/healthz", "/readyz", "/v1/requests", "/v1/offers/{id}/accept", "/v1/branches/{id}/dispatch-policy"]),
    );
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });
});

describe("readiness with a pending migration", () => {
  it("reports not ready, naming how many are pending", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-ready-"));
    const backends = await openBackends(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" }), createLogger("silent"));
    try {
      expect((await checkReadiness(backends)).ready).toBe(true);
      // Unmark the migrations, as a half-finished deploy would leave them.
      await backends.database.prisma.$executeRawUnsafe(`UPDATE _prisma_migrations SET finished_at = NULL`);
      expect(await checkReadiness(backends)).toEqual({
        ready: false,
        checks: { database: "ok", redis: "not configured", migrations: `${backends.committedMigrations.length} pending` },
      });
    } finally {
      await backends.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("readiness reasons", () => {
  it("names the dependency and a short reason, never library text, with the detail in the log", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-ready-down-"));
    const backends = await openBackends(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" }), createLogger("silent"));
    const logged: unknown[] = [];
    const logger = { warn: (entry: unknown) => logged.push(entry) } as unknown as Parameters<typeof checkReadiness>[1];
    try {
      await backends.database.close();
      const report = await checkReadiness(backends, logger);
      expect(report.ready).toBe(false);
      expect(report.checks.database).toMatch(/^unreachable: [a-z ]+$/);
      expect(JSON.stringify(report)).not.toMatch(/prisma|invocation|queryRaw|pglite|`/i);
      expect(logged.length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("maps driver errors to a few words", () => {
    const prismaText = (detail: string) => new Error(`\nInvalid \`prisma.$queryRawUnsafe()\` invocation:\n\n${detail}`);
    expect(shortReason(prismaText("connect ECONNREFUSED 127.0.0.1:5432"))).toBe("connection refused");
    expect(shortReason(prismaText("timeout exceeded when trying to connect"))).toBe("timed out");
    expect(shortReason(prismaText("Connection terminated unexpectedly"))).toBe("connection lost");
    expect(shortReason(prismaText('password authentication failed for user "x"'))).toBe("authentication failed");
    expect(shortReason(prismaText("Raw query failed. Code: `N/A`. Message: `Can't reach database server at 127.0.0.1:5999`"))).toBe("cannot connect");
    expect(shortReason(prismaText("something else entirely"))).toBe("error");
  });
});

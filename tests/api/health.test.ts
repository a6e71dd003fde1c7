/** The HTTP shell in-process: health, the error shape, request ids. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { openBackends, type Backends } from "../../infra/backends.ts";

describe("health and errors (embedded backends)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-health-"));
  let backends: Backends;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" });
    const logger = createLogger("silent");
    backends = await openBackends(config, logger);
    app = createApp({ config, logger, backends });
  });
  afterAll(async () => {
    await backends?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers liveness and readiness", async () => {
    expect(await (await app.request("/healthz")).json()).toEqual({ status: "ok" });
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", redis: "not configured", migrations: "ok" } });
  });

  it("reports not ready when a migration is pending", async () => {
    await backends.database.prisma.$executeRawUnsafe(`UPDATE _prisma_migrations SET finished_at = NULL`);
    try {
      const ready = await app.request("/readyz");
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { checks: { migrations: string } }).checks.migrations).toBe(`${backends.committedMigrations.length} pending`);
    } finally {
      await backends.database.prisma.$executeRawUnsafe(`UPDATE _prisma_migrations SET finished_at = started_at`);
    }
  });

  it("uses the one error shape with a request id, honouring a sane X-Request-Id", async () => {
    const res = await app.request("/nowhere", { headers: { "x-request-id": "mobile-123" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "NOT_FOUND", message: "no route for GET /nowhere", requestId: "mobile-123" } });
    const generated = (await (await app.request("/nowhere", { headers: { "x-request-id": "bad id with spaces" } })).json()) as { error: { requestId: string } };
    expect(generated.error.requestId).toMatch(/^rid_/);
  });

  it("serves the OpenAPI document", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/healthz", "/readyz"]));
  });
});

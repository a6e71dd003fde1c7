/**
 * Read your writes (issue 12): while the record trails the live store (the database refuses the
 * journal's writes), a client who cancelled never reads their request as still waiting; once the
 * record catches up, the recorded view says the same.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { armFailpoint, disarmFailpoints } from "../../core/failpoints.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";

describe("read your writes while the record trails (embedded)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-ryw-"));
  let server: RunningServer;
  let api: ApiClient;
  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false", DEV_AUTH: "true", JWT_SECRET: "r".repeat(32) }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
  });
  afterEach(() => disarmFailpoints());
  afterAll(async () => {
    disarmFailpoints();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("a cancel made while the database refuses the journal reads back as cancelled, before and after the record catches up", async () => {
    const admin = api.as(await api.devToken("admin_ryw", "admin"));
    const w = await createConversationWorld(api, admin, "RYW");
    const created = await w.clientApi.call("POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    armFailpoint("records.apply", { message: "connect ECONNREFUSED 127.0.0.1:5432 (failpoint)", code: "ECONNREFUSED" });
    const cancelled = await w.clientApi.call("POST", `/v1/requests/${id}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    const during = await w.clientApi.call("GET", `/v1/requests/${id}`);
    expect(during.status).toBe(200);
    expect(during.body.status).toBe("cancelled");
    expect(during.body).not.toHaveProperty("liveRev");

    disarmFailpoints();
    for (
      let i = 0;
      i < 100 && (await w.clientApi.call("GET", `/v1/requests/${id}`)).body.timeline.every((t: { event: string }) => t.event !== "request.cancelled");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await w.clientApi.call("GET", `/v1/requests/${id}`);
    expect(after.body.status).toBe("cancelled");
    expect(after.body.timeline.map((t: { event: string }) => t.event)).toContain("request.cancelled");
  });
});

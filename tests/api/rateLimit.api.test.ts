/** Per-principal rate limits at the HTTP edge: 429 RATE_LIMITED with Retry-After, per principal. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";

describe("rate limits over HTTP (embedded)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-rl-"));
  let server: RunningServer;
  let api: ApiClient;
  beforeAll(async () => {
    server = await startServer(
      loadConfig({
        DATA_DIR: dataDir,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "silent",
        SEED_DEMO: "false",
        RATE_LIMIT_REQUESTS_PER_MINUTE: "3",
        RATE_LIMIT_ACCEPTS_PER_MINUTE: "2",
      }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("request creation: the 4th in a minute gets 429 with Retry-After; another client is unaffected", async () => {
    const admin = api.as(await api.devToken("admin_rl", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "RL", region: "r" })).body.id;
    const [a, b] = await Promise.all(
      [1, 2].map(async () => (await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id),
    );
    const clientA = api.as(await api.devToken(a, "client"));
    const clientB = api.as(await api.devToken(b, "client"));
    const body = { topic: "t", requiredLicence: "fund_sales", channel: "chat" };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await clientA.call("POST", "/v1/requests", body)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await clientA.call("POST", "/v1/requests", body);
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await clientB.call("POST", "/v1/requests", body)).status).toBe(201);
  });

  it("accept/grab: the 3rd accept attempt in a minute gets 429 before touching the offer", async () => {
    const admin = api.as(await api.devToken("admin_rl", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "RL2", region: "r2" })).body.id;
    const advisorId = (
      await admin.call("POST", "/v1/advisors", {
        branchId,
        name: "A",
        languages: ["en"],
        maxConcurrent: 1,
        suitabilityMaxRisk: 5,
        licences: [{ kind: "futures", number: `FU-RL-${Date.now()}`, validUntil: "2099-01-01T00:00:00Z" }],
      })
    ).body.id;
    const advisor = api.as(await api.devToken(advisorId, "advisor", branchId));
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await advisor.call("POST", "/v1/offers/off_unknown/accept")).status);
    expect(codes).toEqual([404, 404, 429]);
  });
});

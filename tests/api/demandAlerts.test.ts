/** Surge: waiting requests above the branch threshold alert idle or away advisors, once per 15 minutes. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";

describe("demand alerts (embedded)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-surge-"));
  let server: RunningServer;
  let api: ApiClient;
  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false" }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("alerts an away advisor with the licence when the queue passes the threshold, at most once per 15 minutes", async () => {
    const admin = api.as(await api.devToken("admin_surge", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "Surge", region: "r_surge" })).body.id;
    const policy = (await admin.call("GET", `/v1/branches/${branchId}/dispatch-policy`)).body.policy;
    expect((await admin.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...policy, surgeThreshold: 1 })).status).toBe(200);
    const licensed = { languages: ["en"], maxConcurrent: 1, suitabilityMaxRisk: 5 };
    const away = (
      await admin.call("POST", "/v1/advisors", {
        branchId,
        name: "Away",
        ...licensed,
        licences: [{ kind: "insurance", number: `IN-S-${Date.now()}`, validUntil: "2099-01-01T00:00:00Z" }],
      })
    ).body.id;
    const other = (
      await admin.call("POST", "/v1/advisors", {
        branchId,
        name: "Other kind",
        ...licensed,
        licences: [{ kind: "futures", number: `FU-S-${Date.now()}`, validUntil: "2099-01-01T00:00:00Z" }],
      })
    ).body.id;
    const awayApi = api.as(await api.devToken(away, "advisor", branchId));
    const otherApi = api.as(await api.devToken(other, "advisor", branchId));
    const [awaySocket, otherSocket] = [await awayApi.socket(), await otherApi.socket()];
    await awayApi.call("PUT", "/v1/advisors/me/presence", { status: "away" });
    await otherApi.call("PUT", "/v1/advisors/me/presence", { status: "away" });
    // Policies are cached for up to 2 s per process.
    await new Promise((r) => setTimeout(r, 2_100));

    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id;
    const client = api.as(await api.devToken(clientId, "client"));
    for (let i = 0; i < 4; i++)
      expect((await client.call("POST", "/v1/requests", { topic: "cover", requiredLicence: "insurance", channel: "chat" })).status).toBe(201);

    const alert = await awaySocket.next((m) => m.type === "demand.alert", 2_000);
    expect(alert.message).toMatchObject({ requiredLicence: "insurance", branchId, surge: true });
    expect(alert.message.waiting).toBeGreaterThan(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(awaySocket.messages.filter((m) => m.message.type === "demand.alert")).toHaveLength(1);
    expect(otherSocket.messages.filter((m) => m.message.type === "demand.alert")).toHaveLength(0);
    awaySocket.close();
    otherSocket.close();
  });
});

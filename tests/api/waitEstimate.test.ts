/**
 * GET /v1/requests/{id}/wait-estimate over real HTTP on the embedded backends: the owning client gets
 * the estimate in its documented shape (no estimate for a new branch, and why), read access follows
 * GET /v1/requests/{id} (another client, or an advisor not assigned, gets the same 404 as a request
 * that does not exist), and the assigned advisor's own answer counts in the branch's history.
 * The figures themselves are tested in tests/reporting/waitEstimate.test.ts; who may call it, in the
 * authz table.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";

describe("the wait estimate route (embedded backends)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-wait-"));
  let server: RunningServer;
  let api: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false", DEV_AUTH: "true", JWT_SECRET: "w".repeat(32) }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
    admin = api.as(await api.devToken("admin_wait", "admin"));
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers the owner in the documented shape, and others as if the request did not exist", async () => {
    const { branchId, advisorApi, clientApi } = await createConversationWorld(api, admin, "Wait");
    const created = await clientApi.call("POST", "/v1/requests", { topic: "pension", requiredLicence: "fund_sales", channel: "chat" });
    expect(created.status).toBe(201);
    const requestId: string = created.body.id;

    const estimate = await clientApi.call("GET", `/v1/requests/${requestId}/wait-estimate`);
    expect(estimate.status).toBe(200);
    // Nobody is available, so it waits; the branch is new, so there is nothing to estimate from.
    expect(estimate.body).toEqual({
      requestId,
      status: expect.stringMatching(/^(pending|offered)$/),
      stage: expect.any(String),
      sampleSize: 0,
      medianSeconds: null,
      p80Seconds: null,
      basis: "too little recent history to estimate: 0 requests to this branch got an advisor in the last 7 days (at least 5 are needed)",
    });

    const otherClientId = (await admin.call("POST", "/v1/clients", { branchId, name: "Other", riskLevel: 2, language: "en" })).body.id;
    const otherClient = api.as(await api.devToken(otherClientId, "client"));
    const missing = await clientApi.call("GET", "/v1/requests/req_doesnotexist/wait-estimate");
    for (const [who, caller] of [
      ["another client", otherClient],
      ["an advisor it is not assigned to", advisorApi],
    ] as const) {
      const refused = await caller.call("GET", `/v1/requests/${requestId}/wait-estimate`);
      expect(refused.status, who).toBe(404);
      expect(refused.body.error, who).toMatchObject({ code: "NOT_FOUND", message: missing.body.error.message });
    }
    expect(missing.status).toBe(404);
    expect((await api.call("GET", `/v1/requests/${requestId}/wait-estimate`)).status).toBe(401);

    // Once it is assigned, its advisor may read it, and its own wait is history.
    expect((await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
    const offer = await advisorApi.offerFor(requestId, 10_000);
    expect((await advisorApi.call("POST", `/v1/offers/${offer.offerId}/accept`)).status).toBe(200);
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const read = await advisorApi.call("GET", `/v1/requests/${requestId}/wait-estimate`);
      if (read.status === 200 && read.body.sampleSize === 1) break;
    }
    expect((await advisorApi.call("GET", `/v1/requests/${requestId}/wait-estimate`)).body).toMatchObject({
      status: "assigned",
      sampleSize: 1,
      medianSeconds: null,
    });
  });

  it("is in the OpenAPI document with its schema", async () => {
    const doc = (await api.call("GET", "/openapi.json")).body;
    expect(doc.paths["/v1/requests/{id}/wait-estimate"].get.responses["200"]).toBeDefined();
    expect(Object.keys(doc.components.schemas.WaitEstimate.properties).sort()).toEqual(
      ["basis", "medianSeconds", "p80Seconds", "requestId", "sampleSize", "stage", "status"].sort(),
    );
  });
});

/**
 * End to end over real HTTP and WebSocket: a client asks, the best advisor gets the offer on their
 * socket within a second and accepts, the client sees the advisor with their licence, the advisor
 * completes and the client rates. On the embedded backends and on PostgreSQL + Redis.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";

function endToEnd(name: string, env: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>) {
  describe(name, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    let api: ApiClient;
    beforeAll(async () => {
      const setup = await env();
      cleanup = setup.cleanup;
      server = await startServer(
        loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DEV_AUTH: "true", SEED_DEMO: "false", JWT_SECRET: "e".repeat(32), ...setup.env }),
        createLogger("silent"),
      );
      api = new ApiClient(`http://127.0.0.1:${server.port}`);
    });
    afterAll(async () => {
      await server?.stop();
      await cleanup?.();
    });

    it("client asks, advisor gets the offer over ws within a second, accepts, completes; client sees the licence and rates", async () => {
      const admin = api.as(await api.devToken("admin_e2e", "admin"));
      const { advisorId, advisorApi, clientApi } = await createConversationWorld(api, admin, "E2E");
      const advisorSocket = await advisorApi.socket();
      const clientSocket = await clientApi.socket();
      expect((await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);

      const sentAt = performance.now();
      const created = await clientApi.call("POST", "/v1/requests", { topic: "pension transfer", requiredLicence: "fund_sales", channel: "chat" });
      expect(created.status).toBe(201);
      const requestId = created.body.id;
      const offer = await advisorSocket.next((m) => m.type === "offer" && m.offer.requestId === requestId, 1_000);
      expect(offer.at - sentAt).toBeLessThan(1_000);
      // The shipped funnel grabs at the branch stage: the branch's best advisors get it at once.
      expect(offer.message.offer).toMatchObject({ requestId, kind: "broadcast", topic: "pension transfer", requiredLicence: "fund_sales", channel: "chat" });
      // The client sees the offer go out (status and stage), without being told to whom.
      const offered = await clientSocket.next((m) => m.type === "request.updated" && m.request.id === requestId && m.request.status === "offered");
      expect(offered.message.request).toMatchObject({ status: "offered", stage: "branch" });
      expect(offered.message.request.advisor).toBeUndefined();
      expect(offered.message.request.timeline.map((t: { event: string }) => t.event)).toEqual(["request.created", "offer.sent"]);
      expect((await advisorApi.call("GET", "/v1/advisors/me/offers")).body.map((o: { offerId: string }) => o.offerId)).toEqual([offer.message.offer.offerId]);

      const accepted = await advisorApi.call("POST", `/v1/offers/${offer.message.offer.offerId}/accept`);
      expect(accepted).toMatchObject({ status: 200, body: { requestId, status: "assigned" } });
      await advisorSocket.next((m) => m.type === "request.assigned" && m.requestId === requestId);
      const updated = await clientSocket.next((m) => m.type === "request.updated" && m.request.status === "assigned");
      // In order: offered came before assigned, and nothing read later showed an older state.
      const statuses = clientSocket.messages.filter((m) => m.message.type === "request.updated").map((m) => m.message.request.status);
      expect(statuses.indexOf("offered")).toBeLessThan(statuses.indexOf("assigned"));
      expect(statuses.slice(statuses.indexOf("assigned"))).toEqual(["assigned"]);
      expect(updated.message.request.advisor).toMatchObject({
        id: advisorId,
        name: "Ada Adviser",
        licence: { kind: "fund_sales", validUntil: "2099-01-01T00:00:00.000Z" },
        rating: { average: null, count: 0 },
      });

      const view = await clientApi.call("GET", `/v1/requests/${requestId}`);
      expect(view.body).toMatchObject({ id: requestId, status: "assigned", advisor: { id: advisorId } });
      expect(view.body.timeline.map((t: { event: string }) => t.event)).toEqual(["request.created", "offer.sent", "offer.accepted", "request.assigned"]);

      expect((await advisorApi.call("POST", `/v1/requests/${requestId}/complete`)).status).toBe(200);
      await clientSocket.next((m) => m.type === "request.updated" && m.request.status === "completed");
      expect((await clientApi.call("POST", `/v1/requests/${requestId}/rating`, { stars: 5, comment: "clear and quick" })).status).toBe(201);
      expect((await clientApi.call("POST", `/v1/requests/${requestId}/rating`, { stars: 4 })).status).toBe(409);
      // The rating is on the advisor's card from now on.
      expect((await clientApi.call("GET", `/v1/requests/${requestId}`)).body.advisor.rating).toEqual({ average: 5, count: 1 });
      advisorSocket.close();
      clientSocket.close();
    });

    it("an idempotent create returns the same request; a different body with the key conflicts", async () => {
      const admin = api.as(await api.devToken("admin_e2e", "admin"));
      const branchId = (await admin.call("POST", "/v1/branches", { name: "Idem", region: "r" })).body.id;
      const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "I", riskLevel: 1, language: "en" })).body.id;
      const clientApi = api.as(await api.devToken(clientId, "client"));
      const body = { topic: "isa", requiredLicence: "fund_sales", channel: "voice" };
      const first = await clientApi.call("POST", "/v1/requests", body, { "idempotency-key": "abc-1" });
      const replay = await clientApi.call("POST", "/v1/requests", body, { "idempotency-key": "abc-1" });
      const conflict = await clientApi.call("POST", "/v1/requests", { ...body, topic: "other" }, { "idempotency-key": "abc-1" });
      expect([first.status, replay.status, conflict.status]).toEqual([201, 200, 409]);
      expect(replay.body.id).toBe(first.body.id);
      expect(conflict.body.error.code).toBe("IDEMPOTENCY_CONFLICT");
    });
  });
}

endToEnd("end to end: embedded PGlite + memory store", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-e2e-"));
  return { env: { DATA_DIR: dataDir }, cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
});

describeWithServices("end to end on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  endToEnd("end to end: PostgreSQL + Redis", async () => {
    const scratch: ScratchDatabase = await createScratchDatabase();
    return { env: { DATABASE_URL: scratch.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testKeyPrefix() }, cleanup: () => scratch.drop() };
  });
});

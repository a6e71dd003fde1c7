/**
 * The realtime endpoint: token by query or subprotocol, refusal without one, presence unaffected by a
 * dropped socket, and the offer message's server timestamps.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";

describe("realtime endpoint (embedded)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-ws-"));
  let server: RunningServer;
  let api: ApiClient;
  let wsBase: string;
  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false" }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
    wsBase = `ws://127.0.0.1:${server.port}/v1/ws`;
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const open = (url: string, protocols?: string[]) =>
    new Promise<{ ws: WebSocket; hello: any } | { refused: number }>((resolve) => {
      const ws = new WebSocket(url, protocols);
      ws.once("message", (data) => resolve({ ws, hello: JSON.parse(String(data)) }));
      ws.once("unexpected-response", (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
      ws.once("error", () => {});
    });

  it("accepts the token as a Sec-WebSocket-Protocol and echoes it back", async () => {
    const token = await api.devToken("cli_ws_1", "client");
    const result = await open(wsBase, [token]);
    expect("ws" in result && result.hello).toEqual({ type: "hello", role: "client", sub: "cli_ws_1" });
    if ("ws" in result) {
      expect(result.ws.protocol).toBe(token);
      result.ws.close();
    }
  });

  it("refuses a missing or forged token with 401, and other paths with 404", async () => {
    expect(await open(wsBase)).toEqual({ refused: 401 });
    expect(await open(`${wsBase}?token=not.a.jwt`)).toEqual({ refused: 401 });
    expect(await open(`ws://127.0.0.1:${server.port}/v1/elsewhere?token=${await api.devToken("x", "admin")}`)).toEqual({ refused: 404 });
  });

  it("a dropped advisor socket leaves presence to its TTL", async () => {
    const admin = api.as(await api.devToken("admin_ws", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "WS", region: "r" })).body.id;
    const advisorId = (
      await admin.call("POST", "/v1/advisors", {
        branchId,
        name: "A",
        languages: ["en"],
        maxConcurrent: 1,
        suitabilityMaxRisk: 5,
        licences: [{ kind: "futures", number: `FU-WS-${Date.now()}`, validUntil: "2099-01-01T00:00:00Z" }],
      })
    ).body.id;
    const advisor = api.as(await api.devToken(advisorId, "advisor", branchId));
    const socket = await advisor.socket();
    await advisor.call("PUT", "/v1/advisors/me/presence", { status: "available" });
    socket.ws.terminate();
    await new Promise((r) => setTimeout(r, 300));
    expect((await admin.call("GET", `/v1/advisors/${advisorId}`)).body.live.presence).toBe("available");
  });

  it("an offer message carries when the offer was made and when its request was, as the request's record states them", async () => {
    const admin = api.as(await api.devToken("admin_ws_times", "admin"));
    const w = await createConversationWorld(api, admin, "WS times");
    const socket = await w.advisorApi.socket();
    expect((await w.advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
    const created = await w.clientApi.call("POST", "/v1/requests", { topic: "timed", requiredLicence: "fund_sales", channel: "chat" });
    expect(created.status).toBe(201);
    const requestId: string = created.body.id;
    const { offer } = (await socket.next((m) => m.type === "offer" && m.offer.requestId === requestId)).message;

    const view = (await w.clientApi.call("GET", `/v1/requests/${requestId}`)).body;
    expect(offer.requestCreatedAt).toBe(view.createdAt);
    expect(offer.sentAt).toBe(view.timeline.find((e: { event: string }) => e.event === "offer.sent").at);
    const serverMs = Date.parse(offer.sentAt) - Date.parse(offer.requestCreatedAt);
    expect(serverMs).toBeGreaterThanOrEqual(0);
    expect(serverMs).toBeLessThan(5_000);
    // The listing answers the same offer with the same times.
    const listed = (await w.advisorApi.call("GET", "/v1/advisors/me/offers")).body.find((o: { offerId: string }) => o.offerId === offer.offerId);
    expect(listed).toEqual(offer);
    socket.close();
  });
});

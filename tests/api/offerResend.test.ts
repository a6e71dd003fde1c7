/**
 * Open offers are re-sent when an advisor's socket connects (issue 12): an advisor whose socket was
 * down, or whose process died, gets the offers made meanwhile at once instead of never. Covers the
 * embedded server end to end, the hub's onConnect contract (the race with a live notification, a
 * failing onConnect), and two server processes on PostgreSQL + Redis.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { issueToken } from "../../api/auth/principal.ts";
import { createLocalFanout } from "../../api/realtime/fanout.ts";
import { attachRealtime, type RealtimeHub } from "../../api/realtime/hub.ts";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient, type RecordingSocket } from "../support/apiClient.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { killHard, startServerProcesses, type ServerProcess } from "../support/server.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";

const isOfferFor = (requestId: string) => (m: any) => m.type === "offer" && m.offer.requestId === requestId;
const offersFor = (socket: RecordingSocket, requestId: string) => socket.messages.filter((m) => isOfferFor(requestId)(m.message));

describe("open offers re-sent on connect (embedded)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-resend-"));
  let server: RunningServer;
  let api: ApiClient;
  let admin: ApiClient;
  const sockets: RecordingSocket[] = [];
  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false" }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
    admin = api.as(await api.devToken("admin_resend", "admin"));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const socketOf = async (who: ApiClient) => {
    const socket = await who.socket();
    sockets.push(socket);
    return socket;
  };
  const available = async (advisor: ApiClient) => expect((await advisor.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
  const createRequest = async (client: ApiClient) => {
    const res = await client.call("POST", "/v1/requests", { topic: "my pension", requiredLicence: "fund_sales", channel: "chat" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const listedOffer = async (advisor: ApiClient, requestId: string) => {
    await advisor.offerFor(requestId);
    const offers = (await advisor.call("GET", "/v1/advisors/me/offers")).body as Array<{ requestId: string }>;
    return offers.find((o) => o.requestId === requestId)!;
  };

  it("an advisor with no socket open when offered gets the offer on connect within 1 s, as GET /v1/advisors/me/offers lists it, and can accept it", async () => {
    const w = await createConversationWorld(api, admin, "Resend");
    await available(w.advisorApi);
    const requestId = await createRequest(w.clientApi);
    const listed = await listedOffer(w.advisorApi, requestId);

    const connecting = performance.now();
    const socket = await socketOf(w.advisorApi);
    const resent = await socket.next(isOfferFor(requestId), 1_000);
    expect(resent.at - connecting).toBeLessThan(1_000);
    expect(resent.message).toEqual({ type: "offer", offer: listed, resent: true });
    expect(socket.messages[0]!.message.type).toBe("hello");

    const accepted = await w.advisorApi.call("POST", `/v1/offers/${resent.message.offer.offerId}/accept`);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body).toEqual({ requestId, status: "assigned" });
  });

  it("the re-sent message is the live offer message with resent: true added", async () => {
    const w = await createConversationWorld(api, admin, "Resend shape");
    await available(w.advisorApi);
    const first = await socketOf(w.advisorApi);
    const requestId = await createRequest(w.clientApi);
    const live = await first.next(isOfferFor(requestId), 2_000);
    expect(live.message).not.toHaveProperty("resent");

    const second = await socketOf(w.advisorApi);
    const resent = await second.next(isOfferFor(requestId), 1_000);
    expect(resent.message).toEqual({ ...live.message, resent: true });
    // The socket that was open already gets nothing again.
    expect(offersFor(first, requestId)).toHaveLength(1);
    expect((await w.clientApi.call("POST", `/v1/requests/${requestId}/cancel`)).status).toBe(200);
  });

  it("offers already accepted, declined or withdrawn are not re-sent; the open one is", async () => {
    const w = await createConversationWorld(api, admin, "Resend answered");
    await available(w.advisorApi);

    const accepted = await createRequest(w.clientApi);
    const acceptedOffer = await w.advisorApi.offerFor(accepted);
    expect((await w.advisorApi.call("POST", `/v1/offers/${acceptedOffer.offerId}/accept`)).status).toBe(200);

    const declined = await createRequest(w.clientApi);
    const declinedOffer = await w.advisorApi.offerFor(declined);
    expect((await w.advisorApi.call("POST", `/v1/offers/${declinedOffer.offerId}/decline`)).status).toBe(200);

    const withdrawn = await createRequest(w.clientApi);
    await w.advisorApi.offerFor(withdrawn);
    expect((await w.clientApi.call("POST", `/v1/requests/${withdrawn}/cancel`)).status).toBe(200);

    const open = await createRequest(w.clientApi);
    const openOffer = await listedOffer(w.advisorApi, open);

    const socket = await socketOf(w.advisorApi);
    // Connect messages are sent together, so once the open offer is in, every re-sent one is.
    const resent = await socket.next(isOfferFor(open), 1_000);
    expect(resent.message).toEqual({ type: "offer", offer: openOffer, resent: true });
    for (const requestId of [accepted, declined, withdrawn]) expect(offersFor(socket, requestId), requestId).toEqual([]);
    expect(socket.messages.filter((m) => m.message.resent).map((m) => m.message.offer.requestId)).toEqual([open]);
  });

  it("a client socket gets nothing extra on connect, even with its request on offer", async () => {
    const w = await createConversationWorld(api, admin, "Resend client");
    await available(w.advisorApi);
    const requestId = await createRequest(w.clientApi);
    await w.advisorApi.offerFor(requestId);

    const socket = await socketOf(w.clientApi);
    await new Promise((r) => setTimeout(r, 500));
    expect(socket.messages[0]!.message).toEqual({ type: "hello", role: "client", sub: w.clientId });
    // Only live request updates may follow (a notification still in flight), never an offer or a re-send.
    expect(socket.messages.slice(1).filter((m) => m.message.type !== "request.updated")).toEqual([]);
    expect(socket.messages.filter((m) => m.message.resent)).toEqual([]);
  });
});

describe("the hub's onConnect", () => {
  const secret = "h".repeat(32);
  const logger = createLogger("silent");
  let server: http.Server;
  let hub: RealtimeHub | undefined;
  let base: string;
  const fanout = createLocalFanout();
  let onConnect: (principal: { sub: string }) => Promise<unknown[]> = async () => [];

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    hub = attachRealtime(server, { tokenRules: { secret, maxTtlSeconds: 3600 }, fanout, logger, onConnect: (principal) => onConnect(principal) });
  });
  afterAll(async () => {
    await hub?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const connect = async (sub: string) => new ApiClient(base, await issueToken({ sub, role: "advisor", branchId: "branch_h" }, secret, 600)).socket();

  it("a notification arriving while the connect messages are read is not lost: it follows them", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    onConnect = async (principal) => {
      // The race: an offer made while the listing is being read, published to the registered socket.
      await fanout.publish({ to: [principal.sub], message: { type: "offer", offer: { offerId: "offer_live" } } });
      await gate;
      return [{ type: "offer", offer: { offerId: "offer_listed" }, resent: true }];
    };
    const connecting = connect("adv_race");
    await new Promise((r) => setTimeout(r, 50));
    release();
    const socket = await connecting;
    await socket.next((m) => m.offer?.offerId === "offer_live", 1_000);
    await fanout.publish({ to: ["adv_race"], message: { type: "offer.withdrawn", offerId: "offer_live" } });
    await socket.next((m) => m.type === "offer.withdrawn", 1_000);
    expect(socket.messages.map((m) => m.message.offer?.offerId ?? m.message.type)).toEqual(["hello", "offer_listed", "offer_live", "offer.withdrawn"]);
    socket.close();
  });

  it("a failing onConnect is logged and the socket stays open for live messages", async () => {
    const logged = vi.spyOn(logger, "error");
    onConnect = async () => {
      throw new Error("database unavailable");
    };
    const socket = await connect("adv_fail");
    await vi.waitFor(() =>
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ sub: "adv_fail" }), expect.stringContaining("connect messages failed")),
    );
    await fanout.publish({ to: ["adv_fail"], message: { type: "offer", offer: { offerId: "offer_after" } } });
    await socket.next((m) => m.offer?.offerId === "offer_after", 1_000);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    logged.mockRestore();
    socket.close();
  });
});

describeWithServices("open offers re-sent across processes on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchDatabase;
  const processes: ServerProcess[] = [];
  let a: ApiClient;
  let b: ApiClient;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const shared = {
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testKeyPrefix(),
      JWT_SECRET: "r".repeat(32),
      DEV_AUTH: "true",
      LOG_LEVEL: "warn",
    };
    const started = await startServerProcesses(2, shared);
    processes.push(...started.processes);
    const ports = started.ports;
    a = new ApiClient(`http://127.0.0.1:${ports[0]}`);
    b = new ApiClient(`http://127.0.0.1:${ports[1]}`);
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.exited));
    await scratch?.drop();
  });

  it("an offer made while the advisor's socket was on process A, which then died, is re-sent when they connect to process B", async () => {
    const admin = b.as(await b.devToken("admin_resend_mp", "admin"));
    const w = await createConversationWorld(b, admin, "Resend across");
    const onA = a.as(w.advisorApi.token!);
    const onB = w.advisorApi;
    const socketOnA = await onA.socket();
    expect((await onB.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);

    const created = await w.clientApi.call("POST", "/v1/requests", { topic: "my pension", requiredLicence: "fund_sales", channel: "video" });
    expect(created.status).toBe(201);
    const requestId = created.body.id as string;
    const live = await socketOnA.next(isOfferFor(requestId), 2_000);

    // Process A dies without a goodbye; its socket goes with it.
    const closed = new Promise<void>((resolve) => socketOnA.ws.once("close", () => resolve()));
    killHard(processes[0]!);
    await closed;
    await processes[0]!.exited;

    const socketOnB = await onB.socket();
    const resent = await socketOnB.next(isOfferFor(requestId), 1_000);
    expect(resent.message).toEqual({ ...live.message, resent: true });
    const accepted = await onB.call("POST", `/v1/offers/${resent.message.offer.offerId}/accept`);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    socketOnB.close();
  });
});

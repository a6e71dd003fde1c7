/**
 * The live branch feed on GET /v1/ws, over a real server on the embedded backends: a manager's
 * socket gets their branch's snapshot on connect, a `branch.activity` within 2 s of each request
 * event made through the API, and snapshots after activity at most once a second; another branch's
 * manager, advisors, clients and admins get none of it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../api/auth/principal.ts";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient, type RecordingSocket } from "../support/apiClient.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "../support/services.ts";

const SECRET = "branch-feed-test-secret-0123456789abcdefghij";
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const isBranchMessage = (m: { type: string }) => m.type.startsWith("branch.");

describe("live branch feed for managers (embedded)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-feed-"));
  let server: RunningServer;
  let api: ApiClient;
  const sockets: RecordingSocket[] = [];
  const open = async (client: ApiClient) => {
    const socket = await client.socket();
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    server = await startServer(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false", DEV_AUTH: "true", JWT_SECRET: SECRET }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("sends a manager their branch's snapshot on connect, activity within 2 s, throttled snapshots; nobody else gets any", async () => {
    const admin = api.as(await api.devToken("admin_feed", "admin"));
    const branch = async (name: string) => (await admin.call("POST", "/v1/branches", { name, region: `r_${name}` })).body.id as string;
    const [branchA, branchB] = [await branch("FeedA"), await branch("FeedB")];
    const advisor = async (name: string, kind: string) =>
      (
        await admin.call("POST", "/v1/advisors", {
          branchId: branchA,
          name,
          languages: ["en"],
          maxConcurrent: 1,
          suitabilityMaxRisk: 5,
          licences: [{ kind, number: `${kind}-${name}-${Date.now()}`, validUntil: "2099-01-01T00:00:00Z" }],
        })
      ).body.id as string;
    const insurer = await advisor("Ina", "insurance");
    await advisor("Otto", "futures"); // never comes online
    const clientId = (await admin.call("POST", "/v1/clients", { branchId: branchA, name: "Cleo", riskLevel: 1, language: "en" })).body.id as string;
    const insurerApi = api.as(await api.devToken(insurer, "advisor", branchA));
    const client = api.as(await api.devToken(clientId, "client"));
    expect((await insurerApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);

    const managerA = await open(api.as(await issueToken({ sub: "usr_mgr_feed_a", role: "manager", branchId: branchA }, SECRET)));
    const secondManagerA = await open(api.as(await issueToken({ sub: "usr_mgr_feed_a2", role: "manager", branchId: branchA }, SECRET)));
    const managerB = await open(api.as(await issueToken({ sub: "usr_mgr_feed_b", role: "manager", branchId: branchB }, SECRET)));
    const bystanders = [
      await open(insurerApi),
      await open(client),
      await open(admin),
      // A subject spelled like the feed's address is still only a user.
      await open(api.as(await issueToken({ sub: `branch:${branchA}`, role: "client" }, SECRET))),
    ];

    // On connect: the branch as it is, one available advisor and one offline.
    const first = await managerA.next((m) => m.type === "branch.snapshot", 2_000);
    expect(first.message).toEqual({
      type: "branch.snapshot",
      branchId: branchA,
      queueDepth: 0,
      advisors: { available: 1, busy: 0, away: 0, offline: 1 },
      at: expect.stringMatching(ISO),
    });
    expect((await managerB.next((m) => m.type === "branch.snapshot", 2_000)).message).toMatchObject({ branchId: branchB, queueDepth: 0 });

    // A request nobody in the branch can take (futures: Otto is offline) stays waiting.
    const sentAt = performance.now();
    const waiting = (await client.call("POST", "/v1/requests", { topic: "hedge", requiredLicence: "futures", channel: "chat" })).body.id as string;
    const created = await managerA.next((m) => m.type === "branch.activity" && m.requestId === waiting, 2_000);
    expect(created.at - sentAt).toBeLessThan(2_000);
    expect(created.message).toEqual({
      type: "branch.activity",
      branchId: branchA,
      event: "request.created",
      requestId: waiting,
      at: expect.stringMatching(ISO),
    });
    await secondManagerA.next((m) => m.type === "branch.activity" && m.requestId === waiting, 2_000);
    const afterCreate = await managerA.next((m) => m.type === "branch.snapshot" && m.queueDepth === 1, 2_500);
    expect(afterCreate.message.advisors).toEqual({ available: 1, busy: 0, away: 0, offline: 1 });

    // An insurance request: offered to Ina, accepted (she is now at capacity), completed.
    const taken = (await client.call("POST", "/v1/requests", { topic: "cover", requiredLicence: "insurance", channel: "chat" })).body.id as string;
    const { offerId } = await insurerApi.offerFor(taken);
    expect((await insurerApi.call("POST", `/v1/offers/${offerId}/accept`)).status).toBe(200);
    await managerA.next((m) => m.type === "branch.activity" && m.requestId === taken && m.event === "request.assigned", 2_000);
    const busy = await managerA.next((m) => m.type === "branch.snapshot" && m.advisors.busy === 1, 3_000);
    expect(busy.message).toMatchObject({ queueDepth: 1, advisors: { available: 0, busy: 1, away: 0, offline: 1 } });
    expect((await insurerApi.call("POST", `/v1/requests/${taken}/complete`)).status).toBe(200);
    await managerA.next((m) => m.type === "branch.activity" && m.requestId === taken && m.event === "request.completed", 2_000);
    expect((await client.call("POST", `/v1/requests/${waiting}/cancel`)).status).toBe(200);
    await managerA.next((m) => m.type === "branch.activity" && m.requestId === waiting && m.event === "request.cancelled", 2_000);
    // The last activity of the burst is followed by a snapshot that includes it.
    await managerA.next((m) => m.type === "branch.snapshot" && m.queueDepth === 0 && m.advisors.available === 1, 3_000);

    // A burst of activity: snapshots after the connect one are published at least a second apart
    // (measured on arrival, in this same busy process: 250 ms of slack; unthrottled they come ~100 ms apart).
    for (let i = 0; i < 5; i++) await client.call("POST", "/v1/requests", { topic: `burst ${i}`, requiredLicence: "futures", channel: "chat" });
    await managerA.next((m) => m.type === "branch.snapshot" && m.queueDepth === 5, 3_500);
    const snapshots = managerA.messages.filter((m) => m.message.type === "branch.snapshot").slice(1);
    expect(snapshots.length).toBeGreaterThan(2);
    for (let i = 1; i < snapshots.length; i++) expect(snapshots[i]!.at - snapshots[i - 1]!.at).toBeGreaterThan(750);
    const activity = managerA.messages.filter((m) => m.message.type === "branch.activity");
    expect(activity.map((m) => m.message.event)).toEqual([
      "request.created",
      "request.created",
      "request.assigned",
      "request.completed",
      "request.cancelled",
      ...Array(5).fill("request.created"),
    ]);

    // Nobody else heard any of it: B's manager only B's own snapshot, the others nothing at all.
    await new Promise((r) => setTimeout(r, 300));
    expect(managerB.messages.filter((m) => isBranchMessage(m.message)).map((m) => [m.message.type, m.message.branchId])).toEqual([
      ["branch.snapshot", branchB],
    ]);
    for (const socket of bystanders) expect(socket.messages.filter((m) => isBranchMessage(m.message))).toEqual([]);
  });
});

describeWithServices("live branch feed across processes (PostgreSQL + Redis)", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchDatabase;
  const servers: RunningServer[] = [];
  const sockets: RecordingSocket[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const prefix = testKeyPrefix();
    for (let i = 0; i < 2; i++) {
      const config = {
        DATABASE_URL: scratch.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_PREFIX: prefix,
        PORT: "0",
        HOST: "127.0.0.1",
        DEV_AUTH: "true",
        JWT_SECRET: SECRET,
      };
      servers.push(await startServer(loadConfig({ ...config, LOG_LEVEL: "silent", SEED_DEMO: "false" }), createLogger("silent")));
    }
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    for (const server of servers) await server.stop();
    await scratch?.drop();
  });

  it("reaches a manager connected to another process than the one that decided, still at most one snapshot a second", async () => {
    const [apiA, apiB] = servers.map((server) => new ApiClient(`http://127.0.0.1:${server.port}`)) as [ApiClient, ApiClient];
    const admin = apiA.as(await issueToken({ sub: "admin_feed_x", role: "admin" }, SECRET));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "Split", region: `r_${uniqueTag()}` })).body.id as string;
    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "Cy", riskLevel: 1, language: "en" })).body.id as string;
    const clientToken = await issueToken({ sub: clientId, role: "client" }, SECRET);
    const managerToken = await issueToken({ sub: "usr_mgr_feed_x", role: "manager", branchId }, SECRET);
    // The manager is on B; requests are created on A, then alternately on both.
    const manager = await apiB.as(managerToken).socket();
    sockets.push(manager);
    await manager.next((m) => m.type === "branch.snapshot" && m.queueDepth === 0, 2_000);

    const sentAt = performance.now();
    const first = (await apiA.as(clientToken).call("POST", "/v1/requests", { topic: "a", requiredLicence: "futures", channel: "chat" })).body.id as string;
    const activity = await manager.next((m) => m.type === "branch.activity" && m.requestId === first, 2_000);
    expect(activity.at - sentAt).toBeLessThan(2_000);
    expect(activity.message).toMatchObject({ branchId, event: "request.created" });
    await manager.next((m) => m.type === "branch.snapshot" && m.queueDepth === 1, 2_500);

    for (let i = 0; i < 6; i++) {
      await (i % 2 ? apiA : apiB).as(clientToken).call("POST", "/v1/requests", { topic: `burst ${i}`, requiredLicence: "futures", channel: "chat" });
    }
    await manager.next((m) => m.type === "branch.snapshot" && m.queueDepth === 7, 4_000);
    const snapshots = manager.messages.filter((m) => m.message.type === "branch.snapshot").slice(1);
    // Both processes published; the shared lease kept them a second apart (250 ms slack on arrival).
    for (let i = 1; i < snapshots.length; i++) expect(snapshots[i]!.at - snapshots[i - 1]!.at).toBeGreaterThan(750);
    expect(manager.messages.filter((m) => m.message.type === "branch.activity")).toHaveLength(7);
  });
});

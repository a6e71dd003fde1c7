/**
 * Two server processes on different ports sharing one PostgreSQL and one Redis, as users scale out:
 * realtime delivery crosses processes, and a grab storm split across both has exactly one winner.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ApiClient } from "../support/apiClient.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { startServerProcesses, type ServerProcess } from "../support/server.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "../support/services.ts";

describeWithServices("two server processes on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
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
      JWT_SECRET: "m".repeat(32),
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
    for (const p of processes) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.exited));
    await scratch?.drop();
  });

  async function branchWithPolicy(admin: ApiClient, policy?: Record<string, unknown>) {
    const branchId = (await admin.call("POST", "/v1/branches", { name: "Scale", region: `r_${uniqueTag()}` })).body.id as string;
    if (policy) {
      const current = await admin.call("GET", `/v1/branches/${branchId}/dispatch-policy`);
      const put = await admin.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...current.body.policy, ...policy });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    return branchId;
  }

  async function newAdvisor(admin: ApiClient, branchId: string) {
    const res = await admin.call("POST", "/v1/advisors", {
      branchId,
      name: "Adv",
      languages: ["en"],
      maxConcurrent: 1,
      suitabilityMaxRisk: 5,
      licences: [{ kind: "futures", number: `FU-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00.000Z" }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  it("an advisor connected to process B receives the offer for a request created on process A", async () => {
    const admin = a.as(await a.devToken("admin_mp", "admin"));
    const branchId = await branchWithPolicy(admin);
    const advisorId = await newAdvisor(admin, branchId);
    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id;
    const onB = b.as(await b.devToken(advisorId, "advisor", branchId));
    const socket = await onB.socket();
    expect((await onB.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);

    const clientOnA = a.as(await a.devToken(clientId, "client"));
    const created = await clientOnA.call("POST", "/v1/requests", { topic: "hedging", requiredLicence: "futures", channel: "video" });
    expect(created.status).toBe(201);
    const offer = await socket.next((m) => m.type === "offer" && m.offer.requestId === created.body.id, 2_000);
    // The shipped funnel's branch stage is a grab.
    expect(offer.message.offer.kind).toBe("broadcast");
    socket.close();
  });

  it("100 advisors split across both processes grab one request: exactly one 200, 99 ALREADY_TAKEN", async () => {
    const admin = a.as(await a.devToken("admin_mp", "admin"));
    const branchId = await branchWithPolicy(admin, { grabTopK: 100, stages: [{ pool: "branch", mode: "grab", timeoutSeconds: 120, maxOffers: 100 }] });
    const advisorIds: string[] = [];
    for (let i = 0; i < 100; i++) advisorIds.push(await newAdvisor(admin, branchId));
    const advisorApis = await Promise.all(advisorIds.map(async (id, i) => (i % 2 ? b : a).as(await a.devToken(id, "advisor", branchId))));
    await Promise.all(advisorApis.map(async (api) => expect((await api.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200)));

    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "G", riskLevel: 1, language: "en" })).body.id;
    const created = await a
      .as(await a.devToken(clientId, "client"))
      .call("POST", "/v1/requests", { topic: "grab", requiredLicence: "futures", channel: "chat", mode: "grab" });
    expect(created.status).toBe(201);

    const offerIds = await Promise.all(advisorApis.map(async (api) => (await api.offerFor(created.body.id)).offerId));
    expect(offerIds.every(Boolean)).toBe(true);

    const results = await Promise.all(advisorApis.map((api, i) => api.call("POST", `/v1/offers/${offerIds[i]}/accept`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.map((r) => `${r.status} ${r.body.error?.code}`)).toEqual(Array(99).fill("409 ALREADY_TAKEN"));
  });
});

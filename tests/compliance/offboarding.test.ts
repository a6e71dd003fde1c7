/**
 * Offboarding over real HTTP and WebSocket on PostgreSQL + Redis (a private database, so the audit
 * chainer and the checks below see only this file's rows): an advisor with 2 assigned requests, 1
 * pending offer and 3 dedicated clients leaves. Both requests are re-assigned to other eligible
 * advisors, the offer is withdrawn, the connections close with advisor_offboarded, the dedications
 * clear, every step is in the event log and then the audit chain, and the advisor's token can only
 * read its own earnings.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { drainAuditChainer } from "../../compliance/audit/chainer.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import type { ApiClient } from "../support/apiClient.ts";
import { startScratchServer, type ScratchServer } from "../support/scratchServer.ts";
import { describeWithServices, probePostgres, probeRedis, uniqueTag } from "../support/services.ts";

/** Dedicated offers stay open long enough to still be pending when the advisor is offboarded. */
const POLICY = {
  ...DEFAULT_DISPATCH_POLICY,
  stages: [
    { pool: "dedicated", mode: "dispatch", timeoutSeconds: 120, maxOffers: 1 },
    { pool: "branch", mode: "dispatch", timeoutSeconds: 60, maxOffers: 3 },
  ],
  offerTtlSeconds: 120,
};

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeWithServices("offboarding on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchServer;
  let api: ApiClient;
  let admin: ApiClient;
  let database: ScratchServer["database"];
  const socketOf = (client: ApiClient) => scratch.socketOf(client);

  beforeAll(async () => {
    scratch = await startScratchServer("adm_offboarding");
    ({ api, admin, database } = scratch);
  });
  afterAll(() => scratch?.stop());

  async function newAdvisor(branchId: string, name: string, maxConcurrent: number) {
    const res = await admin.call("POST", "/v1/advisors", {
      branchId,
      name,
      languages: ["en"],
      maxConcurrent,
      suitabilityMaxRisk: 5,
      licences: [{ kind: "fund_sales", number: `FS-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00.000Z" }],
    });
    expect(res.status).toBe(201);
    const id: string = res.body.id;
    return { id, api: api.as(await api.devToken(id, "advisor", branchId)) };
  }

  it("re-assigns the requests, withdraws the offer, closes the connections, clears the dedications, audits every step, and leaves a token that only reads earnings", async () => {
    const branch = await admin.call("POST", "/v1/branches", { name: "Leavers", region: `r_${uniqueTag()}` });
    const branchId: string = branch.body.id;
    const manager = api.as(await api.devToken("mgr_leavers", "manager", branchId));
    expect((await manager.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...POLICY, expectedVersion: 0 })).status).toBe(200);

    const leaving = await newAdvisor(branchId, "Lee Leaving", 5);
    const stayers = [await newAdvisor(branchId, "Sam Staying", 2), await newAdvisor(branchId, "Sue Staying", 2)];
    const clients: Array<{ id: string; api: ApiClient }> = [];
    for (const name of ["Ann", "Bob", "Cat"]) {
      const res = await admin.call("POST", "/v1/clients", { branchId, name, riskLevel: 3, language: "en", dedicatedAdvisorId: leaving.id });
      expect(res.status).toBe(201);
      clients.push({ id: res.body.id, api: api.as(await api.devToken(res.body.id, "client")) });
    }

    // The leaving advisor takes two requests and has a third offered (each to them first: dedicated).
    const leavingSocket = await socketOf(leaving.api);
    expect((await leaving.api.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
    const requestIds: string[] = [];
    const offerIds: string[] = [];
    for (const client of clients) {
      const created = await client.api.call("POST", "/v1/requests", { topic: "pension", requiredLicence: "fund_sales", channel: "chat" });
      expect(created.status).toBe(201);
      requestIds.push(created.body.id);
      offerIds.push((await leaving.api.offerFor(created.body.id)).offerId);
    }
    const [assignedA, assignedB, offered] = requestIds as [string, string, string];
    for (const offerId of offerIds.slice(0, 2)) expect((await leaving.api.call("POST", `/v1/offers/${offerId}/accept`)).status).toBe(200);
    expect((await clients[0]!.api.call("POST", `/v1/requests/${assignedA}/messages`, { body: "hello Lee" })).status).toBe(201);

    // The others come online and take whatever they are offered from now on.
    const stayerSockets = await Promise.all(stayers.map((s) => socketOf(s.api)));
    for (const s of stayers) expect((await s.api.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);

    // Not for strangers.
    const otherBranch = await admin.call("POST", "/v1/branches", { name: "Elsewhere", region: `r_${uniqueTag()}` });
    const otherManager = api.as(await api.devToken("mgr_elsewhere", "manager", otherBranch.body.id));
    expect((await otherManager.call("POST", `/v1/advisors/${leaving.id}/offboard`, {})).status).toBe(404);
    expect((await clients[0]!.api.call("POST", `/v1/advisors/${leaving.id}/offboard`, {})).status).toBe(403);
    expect((await stayers[0]!.api.call("POST", `/v1/advisors/${leaving.id}/offboard`, {})).status).toBe(403);

    const res = await manager.call("POST", `/v1/advisors/${leaving.id}/offboard`, { reason: "left the firm" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ advisorId: leaving.id, branchId, changed: true, offersWithdrawn: [offerIds[2]] });
    expect([...res.body.requestsRedispatched].sort()).toEqual([assignedA, assignedB].sort());
    expect(res.body.dedicationsCleared).toEqual(clients.map((c) => c.id).sort());
    expect(res.body.connectionsClosed).toHaveLength(2);

    // The offer is withdrawn in front of them, and their socket is closed.
    await leavingSocket.next((m) => m.type === "offer.withdrawn" && m.offerId === offerIds[2]);
    await leavingSocket.next((m) => m.type === "session.revoked");
    await until("the socket to close", async () => (leavingSocket.ws.readyState === leavingSocket.ws.CLOSED ? true : undefined));

    // All three requests end up with the advisors who stayed.
    const stayerIds = new Set(stayers.map((s) => s.id));
    for (const requestId of requestIds) {
      const offer = await until(`an offer for ${requestId}`, async () => {
        for (const [i, socket] of stayerSockets.entries()) {
          const found = socket.messages.find((m) => m.message.type === "offer" && m.message.offer.requestId === requestId);
          if (found) return { advisor: stayers[i]!, offerId: found.message.offer.offerId as string };
        }
        return undefined;
      });
      expect((await offer.advisor.api.call("POST", `/v1/offers/${offer.offerId}/accept`)).status).toBe(200);
    }
    for (const [i, requestId] of requestIds.entries()) {
      const view = await clients[i]!.api.call("GET", `/v1/requests/${requestId}`);
      expect(view.body.status).toBe("assigned");
      expect(stayerIds.has(view.body.assignedAdvisorId ?? view.body.advisor?.id)).toBe(true);
    }
    const offersToLeaver = await database.prisma.offer.findMany({ where: { advisorId: leaving.id }, orderBy: { sentAt: "asc" } });
    expect(offersToLeaver.map((o) => [o.requestId, o.outcome])).toEqual([
      [assignedA, "accepted"],
      [assignedB, "accepted"],
      [offered, "withdrawn"],
    ]);

    // Connections: theirs closed for the reason; the new advisors' open.
    const connections = await database.prisma.connection.findMany({ where: { requestId: { in: [assignedA, assignedB] } }, orderBy: { openedAt: "asc" } });
    const theirs = connections.filter((c) => c.advisorId === leaving.id);
    expect(theirs.map((c) => c.closeReason)).toEqual(["advisor_offboarded", "advisor_offboarded"]);
    expect(theirs.every((c) => c.closedAt instanceof Date)).toBe(true);
    expect(connections.filter((c) => c.advisorId !== leaving.id && c.closedAt === null)).toHaveLength(2);

    // The decision record tells the whole story: first pass, the restart without them, the new assignment.
    const record = await manager.call("GET", `/v1/requests/${assignedA}/record`);
    expect(record.status).toBe(200);
    expect(record.body.stages.map((s: { stageIndex: number; pool: string }) => [s.stageIndex, s.pool])).toEqual([
      [0, "dedicated"],
      [0, "dedicated"],
      [1, "branch"],
    ]);
    expect(record.body.offers.map((o: { advisor: { id: string }; outcome: string }) => [o.advisor.id === leaving.id, o.outcome])).toEqual([
      [true, "accepted"],
      [false, "accepted"],
    ]);
    expect(stayerIds.has(record.body.assignment.advisor.id)).toBe(true);
    expect(record.body.connections.map((c: { closeReason: string | null }) => c.closeReason)).toEqual(["advisor_offboarded", null]);

    // Dedications cleared: the clients are served by the branch pool.
    for (const client of clients) expect((await admin.call("GET", `/v1/clients/${client.id}`)).body.dedicatedAdvisorId).toBeNull();
    expect((await admin.call("GET", `/v1/advisors/${leaving.id}`)).body).toMatchObject({ status: "offboarded", offboardedAt: expect.any(String) });

    // Every step is in the event log, with the manager as actor where a person acted, then chained.
    const events = await database.prisma.eventLog.findMany({
      where: { OR: [{ advisorId: leaving.id }, { requestId: { in: requestIds } }] },
      orderBy: { seq: "asc" },
    });
    const steps = events.filter((e) => e.seq > events.find((x) => x.type === "advisor.offboarded")!.seq - 1n);
    const types = steps.map((e) => e.type);
    expect(types.filter((t) => t === "advisor.offboarded")).toHaveLength(1);
    expect(types.filter((t) => t === "connection.closed")).toHaveLength(2);
    expect(types.filter((t) => t === "client.dedication_cleared")).toHaveLength(3);
    expect(types.filter((t) => t === "advisor.presence_dropped")).toHaveLength(1);
    expect(
      steps
        .filter((e) => e.type === "request.redispatched")
        .map((e) => e.requestId)
        .sort(),
    ).toEqual([assignedA, assignedB].sort());
    expect(steps.find((e) => e.type === "offer.withdrawn" && (e.data as { offerId: string }).offerId === offerIds[2])?.data).toMatchObject({
      reason: "advisor_offboarded",
    });
    for (const e of steps.filter((x) => ["advisor.offboarded", "connection.closed", "client.dedication_cleared"].includes(x.type))) {
      expect((e.data as { actor: string }).actor).toBe("mgr_leavers");
    }
    await drainAuditChainer(database.prisma);
    const audited = await database.prisma.auditEvent.findMany({
      where: { id: { in: steps.map((e) => e.id) } },
      select: { id: true, action: true, actor: true },
    });
    expect(audited).toHaveLength(steps.length);
    expect(audited.find((a) => a.action === "advisor.offboarded")?.actor).toBe("mgr_leavers");

    // Their token: only their own earnings.
    expect((await leaving.api.call("POST", `/v1/requests/${assignedA}/messages`, { body: "one last thing" })).status).toBe(403);
    expect((await leaving.api.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(403);
    expect((await leaving.api.call("GET", "/v1/advisors/me/offers")).status).toBe(403);
    expect((await leaving.api.call("GET", "/v1/advisors/me/earnings")).status).toBe(200);
    await expect(leaving.api.socket()).rejects.toThrow(/403/);
    // The conversation goes on with the new advisor and keeps the earlier message.
    expect((await clients[0]!.api.call("POST", `/v1/requests/${assignedA}/messages`, { body: "hello again" })).status).toBe(201);
    expect((await clients[0]!.api.call("GET", `/v1/requests/${assignedA}/messages`)).body.messages.map((m: { body: string }) => m.body)).toEqual([
      "hello Lee",
      "hello again",
    ]);

    // A repeat changes nothing.
    const again = await manager.call("POST", `/v1/advisors/${leaving.id}/offboard`, {});
    expect(again).toMatchObject({
      status: 200,
      body: { changed: false, connectionsClosed: [], dedicationsCleared: [], offersWithdrawn: [], requestsRedispatched: [] },
    });
    expect(await database.prisma.eventLog.count({ where: { type: "advisor.offboarded", advisorId: leaving.id } })).toBe(1);
  });
});

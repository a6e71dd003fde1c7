/**
 * The decision record ("why this advisor?"), GET /v1/requests/{id}/record, over real HTTP against
 * PostgreSQL + Redis: a request runs through three funnel stages (dedicated advisor declines, a
 * branch advisor declines, an advisor of another branch in the region grabs it), and the record
 * shows the stages in order, every offer with its eligibility snapshot, the matching decisions,
 * the assignment, connection, conversation and rating. Also who may read it. The first stage's
 * pool derivation is checked on its own, without services.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { funnelStages, type FirstStageFacts } from "../../compliance/record/funnelStages.ts";
import { newId } from "../../core/ids.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import type { ApiClient } from "../support/apiClient.ts";
import { startScratchServer, type ScratchServer } from "../support/scratchServer.ts";
import { describeWithServices, probePostgres, probeRedis, uniqueTag } from "../support/services.ts";

describe("funnel stages: the first stage's pool comes from the most exact record", () => {
  const createdAt = new Date("2026-03-01T10:00:00.000Z");
  const facts = (over: Partial<FirstStageFacts>): FirstStageFacts => ({
    createdAt,
    currentStage: null,
    firstOfferPool: null,
    currentPolicyFirstPool: async () => {
      throw new Error("the current policy must not be consulted when the record names the pool");
    },
    ...over,
  });
  const moved = [{ stageIndex: 1, stage: "region" as const, at: new Date("2026-03-01T10:00:05.000Z") }];

  it("no stage change yet: the request row names stage 0", async () => {
    expect(await funnelStages(facts({ currentStage: "dedicated", firstOfferPool: "branch" }), [])).toEqual([
      { stageIndex: 0, pool: "dedicated", startedAt: createdAt, source: "request" },
    ]);
  });

  it("after a stage change: an offer made in stage 0, then the recorded changes in order", async () => {
    expect(await funnelStages(facts({ currentStage: "region", firstOfferPool: "branch" }), moved)).toEqual([
      { stageIndex: 0, pool: "branch", startedAt: createdAt, source: "offer" },
      { stageIndex: 1, pool: "region", startedAt: moved[0]!.at, source: "event" },
    ]);
  });

  it("stage 0 passed without an offer: the current policy, marked as such", async () => {
    const stages = await funnelStages(facts({ currentStage: "region", currentPolicyFirstPool: async () => "dedicated" }), moved);
    expect(stages[0]).toEqual({ stageIndex: 0, pool: "dedicated", startedAt: createdAt, source: "current_policy" });
  });
});

/** Every stage ends at once on a decline; the timeouts only bound a stuck test, so they are generous for a busy machine. */
const THREE_STAGE_POLICY = {
  ...structuredClone(DEFAULT_DISPATCH_POLICY),
  stages: [
    { pool: "dedicated", mode: "dispatch", timeoutSeconds: 15, maxOffers: 1 },
    { pool: "branch", mode: "dispatch", timeoutSeconds: 15, maxOffers: 3 },
    { pool: "region", mode: "grab", timeoutSeconds: 30, maxOffers: 20 },
  ],
  offerTtlSeconds: 15,
  grabWindowSeconds: 30,
};

describeWithServices("decision record on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchServer;
  let api: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    scratch = await startScratchServer("admin_record");
    ({ api, admin } = scratch);
  });
  afterAll(() => scratch?.stop());

  async function created(path: string, body: unknown): Promise<string> {
    const res = await admin.call("POST", path, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }

  async function availableAdvisor(branchId: string, name: string, suitabilityMaxRisk: number) {
    const licence = {
      kind: "fund_sales",
      number: `FS-${uniqueTag()}`,
      issuer: "FCA",
      validFrom: "2024-01-01T00:00:00.000Z",
      validUntil: "2099-01-01T00:00:00.000Z",
    };
    const id = await created("/v1/advisors", { branchId, name, languages: ["en"], maxConcurrent: 2, suitabilityMaxRisk, licences: [licence] });
    const advisorApi = api.as(await api.devToken(id, "advisor", branchId));
    expect((await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
    return { id, name, suitabilityMaxRisk, licence, api: advisorApi };
  }

  it("for a request that went through three funnel stages, the record shows every offer with its eligibility snapshot", async () => {
    // Branch A (the client's) and branch B share a region of their own, so no other test's advisor is reachable.
    const region = `region-${uniqueTag()}`;
    const branchA = await created("/v1/branches", { name: "Record A", region });
    const branchB = await created("/v1/branches", { name: "Record B", region });
    const policy = await admin.call("PUT", `/v1/branches/${branchA}/dispatch-policy`, { ...THREE_STAGE_POLICY, expectedVersion: 0 });
    expect(policy.status, JSON.stringify(policy.body)).toBe(200);

    const dedicated = await availableAdvisor(branchA, "Dee Dedicated", 3);
    const branchAdvisor = await availableAdvisor(branchA, "Bea Branch", 4);
    const regional = await availableAdvisor(branchB, "Reg Regional", 5);
    const clientId = await created("/v1/clients", { branchId: branchA, name: "Cleo Client", riskLevel: 3, language: "en", dedicatedAdvisorId: dedicated.id });
    const clientApi = api.as(await api.devToken(clientId, "client"));

    const request = await clientApi.call("POST", "/v1/requests", { topic: "pension transfer", requiredLicence: "fund_sales", channel: "chat", priority: 2 });
    expect(request.status).toBe(201);
    const requestId: string = request.body.id;

    const declinedByDedicated = await dedicated.api.offerFor(requestId);
    expect((await dedicated.api.call("POST", `/v1/offers/${declinedByDedicated.offerId}/decline`)).status).toBe(200);
    const declinedByBranch = await branchAdvisor.api.offerFor(requestId);
    expect((await branchAdvisor.api.call("POST", `/v1/offers/${declinedByBranch.offerId}/decline`)).status).toBe(200);
    const grabbed = await regional.api.offerFor(requestId);
    expect((await regional.api.call("POST", `/v1/offers/${grabbed.offerId}/accept`)).status).toBe(200);

    const hello = await clientApi.call("POST", `/v1/requests/${requestId}/messages`, { body: "Hello, about my pension." });
    expect(hello.status).toBe(201);
    const reply = await regional.api.call("POST", `/v1/requests/${requestId}/messages`, { body: "Happy to help." });
    expect(reply.status).toBe(201);
    expect((await regional.api.call("POST", `/v1/requests/${requestId}/complete`)).status).toBe(200);
    expect((await clientApi.call("POST", `/v1/requests/${requestId}/rating`, { stars: 4, comment: "clear answers" })).status).toBe(201);

    const compliance = api.as(await api.devToken("cmp_record", "compliance"));
    const res = await compliance.call("GET", `/v1/requests/${requestId}/record`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const record = res.body;

    expect(record.request).toMatchObject({
      id: requestId,
      clientId,
      branchId: branchA,
      topic: "pension transfer",
      requiredLicence: "fund_sales",
      channel: "chat",
      mode: "auto",
      language: null,
      priority: 2,
      riskLevel: 3,
      region,
      status: "completed",
      callbackRequested: false,
      cancelledAt: null,
      expiredAt: null,
    });
    const at = (iso: string) => Date.parse(iso);
    const { createdAt, offeredAt, assignedAt, completedAt } = record.request;
    expect(at(createdAt) <= at(offeredAt) && at(offeredAt) <= at(assignedAt) && at(assignedAt) <= at(completedAt)).toBe(true);

    // Three stages, in order, each starting no earlier than the one before; the first at creation.
    expect(record.stages.map((s: any) => [s.stageIndex, s.pool, s.source])).toEqual([
      [0, "dedicated", "offer"],
      [1, "branch", "event"],
      [2, "region", "event"],
    ]);
    expect(record.stages[0].startedAt).toBe(createdAt);
    const starts = record.stages.map((s: any) => at(s.startedAt));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);

    // Every offer, in order, with who got it, how it ended and the facts that made them eligible.
    const expected = [
      { advisor: dedicated, offerId: declinedByDedicated.offerId, kind: "push", stage: "dedicated", stageIndex: 0, outcome: "declined" },
      { advisor: branchAdvisor, offerId: declinedByBranch.offerId, kind: "push", stage: "branch", stageIndex: 1, outcome: "declined" },
      { advisor: regional, offerId: grabbed.offerId, kind: "broadcast", stage: "region", stageIndex: 2, outcome: "accepted" },
    ];
    expect(record.offers).toHaveLength(expected.length);
    record.offers.forEach((offer: any, i: number) => {
      const want = expected[i]!;
      expect(offer).toMatchObject({
        id: want.offerId,
        advisor: { id: want.advisor.id, name: want.advisor.name },
        kind: want.kind,
        stage: want.stage,
        stageIndex: want.stageIndex,
        outcome: want.outcome,
        eligibility: {
          licence: {
            kind: "fund_sales",
            number: want.advisor.licence.number,
            issuer: "FCA",
            validFrom: want.advisor.licence.validFrom,
            validUntil: want.advisor.licence.validUntil,
          },
          suitability: { advisorMaxRisk: want.advisor.suitabilityMaxRisk, clientRisk: 3 },
          language: { requested: null, advisor: ["en"] },
          presence: "available",
          maxConcurrent: 2,
        },
      });
      expect(at(offer.eligibility.checkedAt)).toBeLessThanOrEqual(at(offer.sentAt));
      expect(at(offer.sentAt)).toBeGreaterThanOrEqual(starts[want.stageIndex]);
      expect(at(offer.respondedAt)).toBeGreaterThanOrEqual(at(offer.sentAt));
      expect(at(offer.expiresAt)).toBeGreaterThan(at(offer.sentAt));
    });

    // The matching decisions: who was offered at each step, and who the rules excluded, by rule.
    expect(record.decisions.map((d: any) => [d.stage, d.offered])).toEqual([
      ["dedicated", [dedicated.id]],
      ["branch", [branchAdvisor.id]],
      ["region", [regional.id]],
    ]);
    expect(record.decisions[1].excluded.EXCLUDED).toEqual([dedicated.id]);
    expect([...record.decisions[2].excluded.EXCLUDED].sort()).toEqual([dedicated.id, branchAdvisor.id].sort());

    expect(record.assignment).toEqual({ advisor: { id: regional.id, name: regional.name }, assignedAt, offerId: grabbed.offerId });
    expect(record.connections).toEqual([
      { id: expect.stringMatching(/^con_/), advisorId: regional.id, openedAt: expect.any(String), closedAt: expect.any(String), closeReason: "completed" },
    ]);
    // Closed by the completion event, stamped a moment after the request row.
    expect(at(record.connections[0].openedAt)).toBeLessThanOrEqual(at(record.connections[0].closedAt));
    expect(at(record.connections[0].closedAt)).toBeGreaterThanOrEqual(at(completedAt));
    expect(record.messages).toEqual([hello.body, reply.body]);
    expect(record.rating).toEqual({ id: expect.stringMatching(/^rat_/), stars: 4, comment: "clear answers", ratedAt: expect.any(String) });

    // The branch's manager and admins read the same record; compliance reads every branch.
    const ownManager = api.as(await api.devToken("mgr_record_a", "manager", branchA));
    for (const reader of [ownManager, admin]) {
      const same = await reader.call("GET", `/v1/requests/${requestId}/record`);
      expect(same.status).toBe(200);
      expect(same.body).toEqual(record);
    }

    // Another branch's manager cannot tell the request exists; parties are refused; ids are checked.
    const unknown = await compliance.call("GET", `/v1/requests/${newId("request")}/record`);
    expect(unknown.status).toBe(404);
    const otherManager = api.as(await api.devToken("mgr_record_b", "manager", branchB));
    const hidden = await otherManager.call("GET", `/v1/requests/${requestId}/record`);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error).toMatchObject({ code: "NOT_FOUND", message: unknown.body.error.message });
    for (const party of [clientApi, regional.api, dedicated.api]) {
      const refused = await party.call("GET", `/v1/requests/${requestId}/record`);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("FORBIDDEN");
    }
    const bad = await compliance.call("GET", "/v1/requests/not-a-request/record");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
  }, 60_000);
});

/**
 * People's changes outside the engine are audit events: creating branches, advisors and clients,
 * and every stored dispatch policy version, each recorded with its actor in the transaction that
 * makes the change (a refused change records nothing), then chained into the branch's audit stream.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { drainAuditChainer } from "../../compliance/audit/chainer.ts";
import { verifyAudit } from "../../compliance/audit/verify.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import { startScratchServer, type ScratchServer } from "../support/scratchServer.ts";
import { describeWithServices, probePostgres, probeRedis, uniqueTag } from "../support/services.ts";

describeWithServices("recorded directory and policy changes on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchServer;
  beforeAll(async () => {
    scratch = await startScratchServer("adm_actions");
  });
  afterAll(() => scratch?.stop());

  it("records who created what and every policy version; a refused change records nothing", async () => {
    const { api, admin, database } = scratch;
    const branch = await admin.call("POST", "/v1/branches", { name: "Audited", region: `r_${uniqueTag()}` });
    const branchId: string = branch.body.id;
    const manager = api.as(await api.devToken("mgr_audited", "manager", branchId));
    const licence = { kind: "fund_sales", number: `FS-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00.000Z" };
    const advisor = await manager.call("POST", "/v1/advisors", {
      branchId,
      name: "Al",
      languages: ["en"],
      maxConcurrent: 1,
      suitabilityMaxRisk: 3,
      licences: [licence],
    });
    expect(advisor.status).toBe(201);
    const client = await manager.call("POST", "/v1/clients", { branchId, name: "Cleo", riskLevel: 2, language: "en", dedicatedAdvisorId: advisor.body.id });
    expect(client.status).toBe(201);
    const policy = { ...DEFAULT_DISPATCH_POLICY, offerTtlSeconds: 30 };
    expect((await manager.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...policy, expectedVersion: 0 })).status).toBe(200);
    expect((await manager.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...policy, offerTtlSeconds: 40, expectedVersion: 0 })).status).toBe(409);
    expect((await admin.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, { ...policy, offerTtlSeconds: 45 })).status).toBe(200);
    // Refused: a licence number already on file.
    expect(
      (await manager.call("POST", "/v1/advisors", { branchId, name: "Copy", languages: ["en"], maxConcurrent: 1, suitabilityMaxRisk: 3, licences: [licence] }))
        .status,
    ).toBe(409);

    const events = await database.prisma.eventLog.findMany({ where: { branchId }, orderBy: { seq: "asc" } });
    const summary = events.map((e) => [e.type, (e.data as { actor: string }).actor]);
    expect(summary).toEqual([
      ["branch.created", "adm_actions"],
      ["advisor.created", "mgr_audited"],
      ["client.created", "mgr_audited"],
      ["policy.changed", "mgr_audited"],
      ["policy.changed", "adm_actions"],
    ]);
    expect(events[1]!.data).toMatchObject({ advisorId: advisor.body.id, licences: [expect.objectContaining({ kind: "fund_sales", number: licence.number })] });
    expect(events[2]!.data).toMatchObject({ clientId: client.body.id, dedicatedAdvisorId: advisor.body.id });
    expect(
      events
        .slice(3)
        .map((e) => e.data as { version: number; policy: { offerTtlSeconds: number } })
        .map((d) => [d.version, d.policy.offerTtlSeconds]),
    ).toEqual([
      [1, 30],
      [2, 45],
    ]);

    await drainAuditChainer(database.prisma);
    const chained = await database.prisma.auditEvent.findMany({ where: { stream: `branch:${branchId}` }, orderBy: { streamSeq: "asc" } });
    expect(chained.map((a) => [a.action, a.actor])).toEqual(summary);
    expect((await verifyAudit(database.prisma)).ok).toBe(true);
  });
});

/**
 * Incentives over HTTP: a manager drafts (invalid rules are refused naming rule and field), simulates,
 * activates and rolls back; an advisor earns by accepting fast and sees it in their earnings; the
 * leaderboard ranks them. Then a process is killed between an event and its award, and the award
 * appears exactly once after a restart.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ApiClient } from "../support/apiClient.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { freePort, startServer, waitFor200, type ServerProcess } from "../support/server.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "../support/services.ts";

const RULES = {
  rules: [{ id: "fast-accept", on: "offer.accepted", when: { responseSecondsAtMost: 10 }, award: { points: 5 } }],
  budget: { points: 500, period: "week" },
};

describeWithServices("incentives over HTTP on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchDatabase;
  const processes: ServerProcess[] = [];
  let shared: Record<string, string>;

  async function start(extra: Record<string, string> = {}): Promise<{ process: ServerProcess; api: ApiClient }> {
    const port = await freePort();
    const process = startServer({ ...shared, ...extra, PORT: String(port), HOST: "127.0.0.1" });
    processes.push(process);
    await waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, process);
    return { process, api: new ApiClient(`http://127.0.0.1:${port}`) };
  }

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    shared = {
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testKeyPrefix(),
      JWT_SECRET: "i".repeat(32),
      DEV_AUTH: "true",
      LOG_LEVEL: "info",
      CRON_LEASE_MS: "2000",
    };
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.exited));
    await scratch?.drop();
  });

  it("draft, validation, simulate, activate, earn, leaderboard, earnings, rollback; and a kill between event and award", async () => {
    // The first process never evaluates incentives: whatever it records waits for the next one.
    const first = await start({ INCENTIVE_EVALUATION_SECONDS: "0" });
    const admin = first.api.as(await first.api.devToken("admin_inc", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "Inc", region: `r_${uniqueTag()}`, timezone: "Europe/London" })).body.id;
    const manager = first.api.as(await first.api.devToken("mgr_inc", "manager", branchId));

    const invalid = await manager.call("POST", `/v1/branches/${branchId}/incentive-rules`, {
      rules: [{ id: "bad", on: "offer.accepted", when: { starsAtLeast: 5 }, award: { points: 5 } }],
      budget: { points: 10, period: "week" },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ ruleId: "bad", field: expect.stringContaining("starsAtLeast") })]),
    );

    expect((await manager.call("POST", `/v1/branches/${branchId}/incentive-rules`, RULES)).body).toMatchObject({ version: 1, status: "draft" });
    expect(
      (await manager.call("POST", `/v1/branches/${branchId}/incentive-rules`, { ...RULES, rules: [{ ...RULES.rules[0], award: { points: 50 } }] })).body
        .version,
    ).toBe(2);
    expect((await manager.call("POST", `/v1/branches/${branchId}/incentive-rules/1/activate`)).body).toEqual({ version: 1, retired: null });

    const advisorId = (
      await admin.call("POST", "/v1/advisors", {
        branchId,
        name: "Eager",
        languages: ["en"],
        maxConcurrent: 2,
        suitabilityMaxRisk: 5,
        licences: [{ kind: "fund_sales", number: `FS-I-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00Z" }],
      })
    ).body.id;
    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id;
    const advisor = first.api.as(await first.api.devToken(advisorId, "advisor", branchId));
    await advisor.call("PUT", "/v1/advisors/me/presence", { status: "available" });
    const created = await first.api
      .as(await first.api.devToken(clientId, "client"))
      .call("POST", "/v1/requests", { topic: "isa", requiredLicence: "fund_sales", channel: "chat" });
    const { offerId } = await advisor.offerFor(created.body.id);
    expect((await advisor.call("POST", `/v1/offers/${offerId}/accept`)).status).toBe(200);

    // The accept is recorded; the process dies before any award is made.
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    const count = async (sql: string) => Number((await db.query(sql)).rows[0].n);
    expect(await count(`SELECT count(*) AS n FROM "EventLog" WHERE type = 'offer.accepted' AND "requestId" = '${created.body.id}'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM "IncentiveAward"`)).toBe(0);
    const holder = first.process.output().match(/"holder":"([^"]+)"[^\n]*took the job lease/)?.[1];
    process.kill(Number(holder!.split(":")[1]), "SIGKILL");
    await first.process.exited;

    // After a restart the award is made, exactly once, however many evaluation runs follow.
    const second = await start();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (await count(`SELECT count(*) AS n FROM "IncentiveAward"`)) === 0) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 4_500)); // two more evaluation runs
    expect(await count(`SELECT count(*) AS n FROM "IncentiveAward" WHERE status = 'posted'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM "LedgerTransaction" WHERE kind = 'award'`)).toBe(1);
    await db.end();

    const admin2 = second.api.as(await second.api.devToken("admin_inc", "admin"));
    const manager2 = second.api.as(await second.api.devToken("mgr_inc", "manager", branchId));
    const advisor2 = second.api.as(await second.api.devToken(advisorId, "advisor", branchId));
    const earnings = (await advisor2.call("GET", "/v1/advisors/me/earnings")).body;
    expect(earnings).toMatchObject({ advisorId, balance: { points: 5, payable: 0 }, rank: 1 });
    expect(earnings.recent[0]).toMatchObject({ ruleId: "fast-accept", ruleSetVersion: 1, points: 5, status: "posted" });
    expect((await manager2.call("GET", `/v1/branches/${branchId}/leaderboard`)).body[0]).toMatchObject({ rank: 1, advisorId, points: 5 });

    // Simulating the richer draft over what happened: 50 instead of 5, the difference against v1.
    const simulated = await manager2.call("POST", `/v1/branches/${branchId}/incentive-rules/2/simulate`, {
      from: "2020-01-01T00:00:00Z",
      to: "2100-01-01T00:00:00Z",
    });
    expect(simulated.body).toMatchObject({ draft: { totals: { points: 50 } }, active: { version: 1, totals: { points: 5 } }, difference: { pointsDelta: 45 } });

    // Activate v2, then roll back to v1.
    expect((await manager2.call("POST", `/v1/branches/${branchId}/incentive-rules/2/activate`)).body).toEqual({ version: 2, retired: 1 });
    expect((await manager2.call("POST", `/v1/branches/${branchId}/incentive-rules/1/activate`)).body).toEqual({ version: 1, retired: 2 });
    const versions = (await admin2.call("GET", `/v1/branches/${branchId}/incentive-rules`)).body;
    expect(versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [2, "retired"],
      [1, "active"],
    ]);
  });
});

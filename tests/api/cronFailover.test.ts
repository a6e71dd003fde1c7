/**
 * Scheduled jobs run on exactly one process (a Redis lease with a token). Kill that process: another
 * takes the lease within the lease time, and the dead process's pending deadlines still fire.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ApiClient } from "../support/apiClient.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { freePort, startServer, waitFor200, type ServerProcess } from "../support/server.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "../support/services.ts";

const LEASE_MS = 2_000;
const LEADS = /took the job lease/;

describeWithServices("cron failover on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchDatabase;
  const processes: ServerProcess[] = [];
  const ports: number[] = [];
  const prefix = testKeyPrefix();

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const shared = {
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      JWT_SECRET: "c".repeat(32),
      DEV_AUTH: "true",
      LOG_LEVEL: "info",
      CRON_LEASE_MS: String(LEASE_MS),
    };
    for (let i = 0; i < 2; i++) {
      ports.push(await freePort());
      processes.push(startServer({ ...shared, PORT: String(ports[i]), HOST: "127.0.0.1" }));
    }
    await Promise.all(ports.map((port, i) => waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, processes[i])));
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGTERM");
    await Promise.all(processes.map((p) => p.exited));
    await scratch?.drop();
  });

  it("exactly one process leads; after it is killed another takes over within the lease time, and deadlines still fire", async () => {
    // Wait until one of them leads.
    const deadline = Date.now() + 10_000;
    while (!processes.some((p) => LEADS.test(p.output())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const leaders = processes.filter((p) => LEADS.test(p.output()));
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    const survivor = processes.find((p) => p !== leader)!;
    // The token names the server's own process (host:pid:uuid); tsx runs it as a child of the one we spawned.
    const tokenOf = (p: ServerProcess) => (p.output().match(/"holder":"([^"]+)"[^\n]*took the job lease/) ?? [])[1];
    const leaderToken = tokenOf(leader)!;
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    expect(await redis.get(`${prefix}lease:{cron}`)).toBe(leaderToken);

    // A request on the leader with an offer nobody will answer (5 s offer TTL).
    const api = new ApiClient(`http://127.0.0.1:${ports[processes.indexOf(leader)]}`);
    const admin = api.as(await api.devToken("admin_cron", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "Cron", region: `r_${uniqueTag()}` })).body.id;
    const policy = (await admin.call("GET", `/v1/branches/${branchId}/dispatch-policy`)).body.policy;
    await admin.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, {
      ...policy,
      offerTtlSeconds: 5,
      stages: [{ pool: "branch", mode: "dispatch", timeoutSeconds: 60, maxOffers: 3 }],
    });
    const advisorId = (
      await admin.call("POST", "/v1/advisors", {
        branchId,
        name: "Slow",
        languages: ["en"],
        maxConcurrent: 1,
        suitabilityMaxRisk: 5,
        licences: [{ kind: "insurance", number: `IN-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00Z" }],
      })
    ).body.id;
    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id;
    await api.as(await api.devToken(advisorId, "advisor", branchId)).call("PUT", "/v1/advisors/me/presence", { status: "available" });
    // Policies are cached for up to 2 s per process.
    await new Promise((r) => setTimeout(r, 2_100));
    const created = await api
      .as(await api.devToken(clientId, "client"))
      .call("POST", "/v1/requests", { topic: "cover", requiredLicence: "insurance", channel: "voice" });
    expect(created.status).toBe(201);

    const killedAt = Date.now();
    process.kill(Number(leaderToken.split(":")[1]), "SIGKILL"); // a crash: no shutdown, no lease release
    await leader.exited;
    while (!LEADS.test(survivor.output()) && Date.now() - killedAt < LEASE_MS * 3) await new Promise((r) => setTimeout(r, 50));
    const tookOverAfter = Date.now() - killedAt;
    expect(LEADS.test(survivor.output())).toBe(true);
    expect(tookOverAfter).toBeLessThanOrEqual(LEASE_MS + 1_000); // the lease time, plus one renewal attempt's slack
    expect(await redis.get(`${prefix}lease:{cron}`)).toBe(tokenOf(survivor));
    await redis.quit();

    // The dead process's offer deadline fires on the survivor.
    const survivorApi = new ApiClient(`http://127.0.0.1:${ports[processes.indexOf(survivor)]}`);
    const clientApi = survivorApi.as(await survivorApi.devToken(clientId, "client"));
    const until = Date.now() + 15_000;
    let events: string[] = [];
    while (Date.now() < until) {
      events = (await clientApi.call("GET", `/v1/requests/${created.body.id}`)).body.timeline.map((t: { event: string }) => t.event);
      if (events.includes("offer.timed_out")) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(events).toContain("offer.timed_out");
    console.log(`cron lease taken over ${tookOverAfter} ms after the leader was killed (lease ${LEASE_MS} ms)`);
  });
});

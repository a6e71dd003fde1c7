/**
 * When PostgreSQL or Redis is unreachable the API answers 503 UNAVAILABLE with Retry-After (never a
 * 500, never a hang), /readyz says which dependency is down, and service resumes when it returns.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../api/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, uniqueTag } from "../support/services.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcpProxy.ts";

describeWithServices("dependency outages on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchDatabase;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let server: RunningServer;
  let api: ApiClient;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    const pgUrl = new URL(scratch.url);
    const redisUrl = new URL(TEST_REDIS_URL);
    pgProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    pgUrl.host = `127.0.0.1:${pgProxy.port}`;
    redisUrl.host = `127.0.0.1:${redisProxy.port}`;
    server = await startServer(
      loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DEV_AUTH: "true", JWT_SECRET: "o".repeat(32), DATABASE_URL: pgUrl.toString(), REDIS_URL: redisUrl.toString(), REDIS_PREFIX: `test:${uniqueTag()}:` }),
      createLogger("silent"),
    );
    api = new ApiClient(`http://127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await redisProxy?.restore().catch(() => {});
    await pgProxy?.restore().catch(() => {});
    await server?.stop().catch(() => {});
    await pgProxy?.close();
    await redisProxy?.close();
    await scratch?.drop();
  });

  async function world() {
    const admin = api.as(await api.devToken("admin_outage", "admin"));
    const branchId = (await admin.call("POST", "/v1/branches", { name: "Out", region: "r" })).body.id;
    const clientId = (await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id;
    return { admin, client: api.as(await api.devToken(clientId, "client")) };
  }

  it("Redis down: 503 with Retry-After, readiness names Redis, and service resumes", async () => {
    const { client } = await world();
    await redisProxy.cut();
    const res = await client.call("POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBe("5");
    const ready = await api.call("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis).toMatch(/^unreachable: (connection refused|cannot connect|connection lost|timed out)$/);

    await redisProxy.restore();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 201) {
      status = (await client.call("POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" })).status;
      if (status !== 201) await new Promise((r) => setTimeout(r, 300));
    }
    expect(status).toBe(201);
  });

  it("PostgreSQL down: 503 with Retry-After, readiness names the database, and service resumes", async () => {
    const { client, admin } = await world();
    await pgProxy.cut();
    const res = await client.call("POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBe("5");
    const read = await admin.call("GET", "/v1/branches/brn_nope/dispatch-policy");
    expect(read.status).toBe(503);
    const ready = await api.call("GET", "/readyz");
    expect(ready.status).toBe(503);
    // The dependency and a short reason, never library text (Prisma's names queries and internals).
    expect(ready.body.checks.database).toMatch(/^unreachable: (connection refused|cannot connect|connection lost|timed out)$/);
    expect(JSON.stringify(ready.body)).not.toMatch(/prisma|invocation|queryRaw|`/i);

    await pgProxy.restore();
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (Date.now() < deadline && status !== 201) {
      status = (await client.call("POST", "/v1/requests", { topic: "t", requiredLicence: "fund_sales", channel: "chat" })).status;
      if (status !== 201) await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe(201);
  });
});

/**
 * When PostgreSQL or Redis is unreachable the API answers 503 UNAVAILABLE with Retry-After (never a
 * 500, never a hang), /readyz says which dependency is down, and service resumes when it returns.
 * Outages are made by TCP proxies in front of the real services: refused (connections cut and
 * refused) or stalled (a partition: connections accepted, nothing answered), while a client and an
 * advisor keep working through create, accept or decline, and complete. Afterwards the journal is
 * persisted and the live store and PostgreSQL agree (the consistency checker): 0 divergence.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient, type ApiResponse } from "../support/apiClient.ts";
import { createConversationWorld, type ConversationWorld } from "../support/conversationWorld.ts";
import { createScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcpProxy.ts";
import { openPostgres } from "../../platform/database.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { expectSettlesConsistent } from "../support/consistency.ts";
import { connectTestRedis } from "../matching/support/redisStores.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server on a scratch database and its own Redis prefix, reaching both through TCP proxies. */
interface BehindProxies {
  api: ApiClient;
  pgProxy: TcpProxy;
  redisProxy: TcpProxy;
  /** Waits for the journal to drain, then for the live store and PostgreSQL to agree (the checker), and asserts it. */
  expectSettled(): Promise<void>;
  stop(): Promise<void>;
}

async function startBehindProxies(): Promise<BehindProxies> {
  const scratch = await createScratchDatabase();
  const prefix = testKeyPrefix();
  const pgUrl = new URL(scratch.url);
  const redisUrl = new URL(TEST_REDIS_URL);
  const pgProxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
  const redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
  pgUrl.host = `127.0.0.1:${pgProxy.port}`;
  redisUrl.host = `127.0.0.1:${redisProxy.port}`;
  const server = await startServer(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      DEV_AUTH: "true",
      JWT_SECRET: "o".repeat(32),
      DATABASE_URL: pgUrl.toString(),
      REDIS_URL: redisUrl.toString(),
      REDIS_PREFIX: prefix,
      // The workload below creates and accepts far more than a person would; rate limits are not under test.
      RATE_LIMIT_REQUESTS_PER_MINUTE: "100000",
      RATE_LIMIT_ACCEPTS_PER_MINUTE: "100000",
    }),
    createLogger("silent"),
  );
  return {
    api: new ApiClient(`http://127.0.0.1:${server.port}`),
    pgProxy,
    redisProxy,
    async expectSettled() {
      const database = await openPostgres(scratch.url, { poolSize: 2 });
      const redis = await connectTestRedis();
      try {
        const store = createRedisMatchingStore(redis, { prefix });
        for (let i = 0; i < 60 && (await redis.xLen(`${prefix}journal`)) > 0; i++) await pause(250);
        expect(await redis.xLen(`${prefix}journal`), "the journal is persisted").toBe(0);
        // Requests still in the funnel move on as it settles, and one whose creation the database
        // committed while the server had given up on it is restored by the reconciler (15 s after its
        // creation, at its next 5 s run): give the record and the live store time to meet.
        await expectSettlesConsistent(() => ({ prisma: database.prisma, store, now: Date.now() }), 40_000);
      } finally {
        await redis.quit();
        await database.close();
      }
    },
    async stop() {
      await redisProxy.restore().catch(() => {});
      await pgProxy.restore().catch(() => {});
      await server.stop().catch(() => {});
      await pgProxy.close();
      await redisProxy.close();
      await scratch.drop();
    },
  };
}

describeWithServices("dependency outages on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let env: BehindProxies;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let api: ApiClient;

  beforeAll(async () => {
    env = await startBehindProxies();
    ({ api, pgProxy, redisProxy } = env);
  });
  afterAll(async () => {
    await env?.stop();
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

describeWithServices("10 s dependency outages under load on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  const OUTAGE_MS = 10_000;
  const NO_ANSWER_MS = 15_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** One API answer the workload got: what it asked, the status, Retry-After, when and how long it took. */
  interface Answer {
    what: string;
    status: number;
    code?: string;
    retryAfter: string | null;
    message?: string;
    startedAt: number;
    ms: number;
  }

  type Workload = ReturnType<typeof startWorkload>;

  /**
   * A client creating requests and its advisor accepting (two in three) or declining each offer,
   * completing what they accepted, and renewing presence, in a loop until stopped. Records every
   * answer; a failed HTTP exchange (the server gone) is recorded as status 0.
   */
  function startWorkload(world: ConversationWorld) {
    const answers: Answer[] = [];
    const assigned = new Set<string>();
    /** Requests whose accept answered 503: the outcome is unknown, so their state is read back. */
    const uncertain = new Set<string>();
    let cycles = 0;
    let running = true;
    let decisions = 0;
    const call = async (who: ApiClient, what: string, method: string, path: string, body?: unknown): Promise<ApiResponse> => {
      const started = Date.now();
      let res: ApiResponse;
      let timer: NodeJS.Timeout | undefined;
      try {
        // Never let one call stall the workload: an answer that takes this long is recorded as none.
        const unanswered = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${NO_ANSWER_MS} ms`)), NO_ANSWER_MS);
        });
        res = await Promise.race([who.call(method, path, body), unanswered]);
      } catch (error) {
        res = { status: 0, body: { error: { code: String(error) } }, headers: new Headers() };
      } finally {
        clearTimeout(timer);
      }
      const error = res.body?.error;
      answers.push({
        what,
        status: res.status,
        code: error?.code,
        message: error?.message,
        retryAfter: res.headers.get("retry-after"),
        startedAt: started,
        ms: Date.now() - started,
      });
      return res;
    };
    const { clientApi, advisorApi } = world;
    const loop = (async () => {
      while (running) {
        await call(advisorApi, "presence", "PUT", "/v1/advisors/me/presence", { status: "available" });
        for (const id of [...uncertain]) {
          const view = await call(clientApi, "read", "GET", `/v1/requests/${id}`);
          if (view.status !== 200) break;
          uncertain.delete(id);
          if (view.body.status === "assigned" && view.body.advisor?.id === world.advisorId) assigned.add(id);
        }
        for (const id of [...assigned]) {
          const done = await call(advisorApi, "complete", "POST", `/v1/requests/${id}/complete`);
          if (done.status === 200) cycles += 1;
          if (done.status < 500) assigned.delete(id);
        }
        const created = await call(clientApi, "create", "POST", "/v1/requests", { topic: "outage", requiredLicence: "fund_sales", channel: "chat" });
        if (created.status === 201) {
          const requestId: string = created.body.id;
          let offerId: string | undefined;
          for (let i = 0; i < 8 && running && !offerId; i++) {
            const offers = await call(advisorApi, "offers", "GET", "/v1/advisors/me/offers");
            if (Array.isArray(offers.body)) offerId = offers.body.find((o: { requestId: string }) => o.requestId === requestId)?.offerId;
            if (!offerId) await sleep(150);
          }
          if (offerId) {
            const accept = decisions++ % 3 !== 2;
            const decided = await call(advisorApi, accept ? "accept" : "decline", "POST", `/v1/offers/${offerId}/${accept ? "accept" : "decline"}`);
            if (accept && decided.status === 200) assigned.add(requestId);
            if (accept && decided.status >= 500) uncertain.add(requestId);
          }
        }
        await sleep(100);
      }
    })();
    return {
      answers,
      /** A few reads that each take a database round trip (the advisor's standing, then the offers), at once. */
      burst: () => Promise.all(Array.from({ length: 4 }, () => call(advisorApi, "offers", "GET", "/v1/advisors/me/offers"))),
      get cycles() {
        return cycles;
      },
      async stop() {
        running = false;
        await loop;
      },
    };
  }

  /** Every answer is a normal one (below 500) or 503 UNAVAILABLE with Retry-After: never another 5xx, never no answer. */
  function expectOnlyNormalOr503(answers: Answer[]) {
    const wrong = answers.filter((a) => a.status === 0 || (a.status >= 500 && !(a.status === 503 && a.code === "UNAVAILABLE" && a.retryAfter === "5")));
    expect(wrong, JSON.stringify(wrong.slice(0, 5))).toEqual([]);
  }

  /** /readyz answers within 2 s and is not ready, naming `dependency` with a short reason. */
  async function expectNotReady(api: ApiClient, dependency: "database" | "redis") {
    const started = Date.now();
    const ready = await api.call("GET", "/readyz");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks[dependency]).toMatch(/^unreachable: (connection refused|cannot connect|connection lost|timed out)$/);
  }

  /** An outage of one dependency: how to make it and how to end it, through the proxies. */
  interface Outage {
    dependency: "database" | "redis";
    begin(env: BehindProxies, workload: Workload): Promise<void>;
    end(env: BehindProxies): Promise<void>;
  }

  /**
   * Runs the workload through an outage of OUTAGE_MS, checking readiness during it, then waits for
   * a full create → accept → complete cycle after it ends. Every call made during the outage must be
   * answered within `eachWithinMs`, counting any still waiting when it ended (a call that hung until
   * the outage was over shows as a long one), and some with a 503. Each outage gets a server of its
   * own, so nothing another test left open (requests escalating to every advisor in the country,
   * holding their slots) is in its way.
   */
  async function throughOutage(outage: Outage, eachWithinMs: number) {
    const env = await startBehindProxies();
    try {
      await runOutage(env, outage, eachWithinMs);
    } finally {
      await env.stop();
    }
  }

  async function runOutage(env: BehindProxies, { dependency, begin, end }: Outage, eachWithinMs: number) {
    const { api } = env;
    const admin = api.as(await api.devToken("admin_outage", "admin"));
    const world = await createConversationWorld(api, admin, `Outage ${dependency}`);
    const workload = startWorkload(world);
    let began = 0;
    let ended = 0;
    try {
      const lately = () => JSON.stringify(workload.answers.slice(-4).map(({ what, status, message }) => ({ what, status, message })));
      const warm = Date.now() + 15_000;
      while (workload.cycles === 0 && Date.now() < warm) await sleep(100);
      expect(workload.cycles, `the workload completes a cycle before the outage; last answers ${lately()}`).toBeGreaterThan(0);

      began = Date.now();
      await begin(env, workload);
      try {
        await sleep(500);
        await expectNotReady(api, dependency);
        await sleep(Math.max(0, OUTAGE_MS - (Date.now() - began)));
      } finally {
        await end(env);
        ended = Date.now();
      }

      const cyclesAtRestore = workload.cycles;
      const deadline = Date.now() + 30_000;
      while (workload.cycles === cyclesAtRestore && Date.now() < deadline) await sleep(200);
      expect(workload.cycles, `service resumes: a request is created, accepted and completed after the outage; last answers ${lately()}`).toBeGreaterThan(
        cyclesAtRestore,
      );
      expect((await api.call("GET", "/readyz")).status).toBe(200);
    } finally {
      await workload.stop();
    }
    expectOnlyNormalOr503(workload.answers);
    // 0 divergence afterwards: what was decided during the outage reached the record.
    await env.expectSettled();
    const during = workload.answers.filter((a) => a.startedAt >= began && a.startedAt < ended);
    const slow = during.filter((a) => a.ms >= eachWithinMs);
    expect(slow, `answered in ${eachWithinMs} ms or more: ${JSON.stringify(slow.slice(0, 5))}`).toEqual([]);
    expect(during.filter((a) => a.status === 503).length, "the outage was felt").toBeGreaterThan(0);
  }

  it("PostgreSQL refusing connections for 10 s under load: only normal answers or 503 with Retry-After, then service resumes", {
    timeout: 90_000,
  }, async () => {
    // Going down the way hosts often do: a moment of silence, so statements are in flight (a burst
    // of reads makes sure), then every connection is cut (those statements fail with "Connection
    // terminated unexpectedly") and new ones are refused.
    const goDown = async ({ pgProxy }: BehindProxies, workload: Workload) => {
      await pgProxy.stall();
      const inFlight = workload.burst();
      await sleep(400);
      await pgProxy.cut();
      await inFlight;
    };
    await throughOutage({ dependency: "database", begin: goDown, end: ({ pgProxy }) => pgProxy.restore() }, 5_000);
  });

  it("PostgreSQL stalled for 10 s under load: only normal answers or 503 with Retry-After, none hanging, then service resumes", {
    timeout: 90_000,
  }, async () => {
    // Each statement gives up after DATABASE_TIMEOUT_MS (2 s) plus 0.5 s; a request that meets the
    // stall in a couple of sequential steps (waiting for a connection, then a statement; or a write
    // whose failure is logged and retried later) can take a few of those, never the outage's length.
    await throughOutage({ dependency: "database", begin: ({ pgProxy }) => pgProxy.stall(), end: ({ pgProxy }) => pgProxy.restore() }, 8_000);
  });

  it("Redis stalled for 10 s under load: 503s with Retry-After, each within 5 s, then service resumes", { timeout: 90_000 }, async () => {
    await throughOutage({ dependency: "redis", begin: ({ redisProxy }) => redisProxy.stall(), end: ({ redisProxy }) => redisProxy.restore() }, 5_000);
  });
});

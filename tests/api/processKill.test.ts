/**
 * Process kill (issue 12): two server processes on one PostgreSQL and one Redis carry a mixed load
 * (clients creating and cancelling, advisors accepting, declining and completing over HTTP) while
 * one of them is killed with SIGKILL at random moments, five times, and started again. After it
 * settles: the journal is fully persisted, every request a client was given an id for is in both
 * stores, in a final state or a consistent live one, and the invariants hold (no double
 * assignment, no capacity overrun): the consistency checker, field by field.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPostgres, type Database } from "../../platform/database.ts";
import type { RedisClient } from "../../platform/redis.ts";
import { stageName, stagesFor } from "../../matching/domain/funnel.ts";
import { directRecorder } from "../../matching/journal/recorder.ts";
import { reconcile } from "../../matching/engine/reconciler.ts";
import { createPrismaMatchingRecords } from "../../matching/records/prisma.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import { ApiClient } from "../support/apiClient.ts";
import { createBranchCrowd } from "../support/branchCrowd.ts";
import { expectSettlesConsistent } from "../support/consistency.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { freePort, killHard, startServer, waitFor200, type ServerProcess } from "../support/server.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";
import { connectTestRedis } from "../matching/support/redisStores.ts";

const KILLS = 5;
const LOAD_MS = 30_000;
const ADVISORS = 6;
const CLIENTS = 16;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithServices("a server process killed with SIGKILL under load", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchDatabase;
  let database: Database;
  let redis: RedisClient;
  let store: MatchingStore;
  const prefix = testKeyPrefix();
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: "k".repeat(32),
    DEV_AUTH: "true",
    LOG_LEVEL: "warn",
    HOST: "127.0.0.1",
    SHUTDOWN_TIMEOUT_MS: "2000",
  };
  const ports: number[] = [];
  const servers: ServerProcess[] = [];

  const start = async (i: number) => {
    servers[i] = startServer({ ...env, DATABASE_URL: scratch.url, PORT: String(ports[i]) });
    await waitFor200(`http://127.0.0.1:${ports[i]}/readyz`, 60_000, servers[i]);
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    database = await openPostgres(scratch.url, { poolSize: 2 });
    redis = await connectTestRedis();
    store = createRedisMatchingStore(redis, { prefix });
    ports.push(await freePort(), await freePort());
    await Promise.all([start(0), start(1)]);
  });
  afterAll(async () => {
    for (const s of servers) if (s && s.child.exitCode === null) killHard(s);
    await Promise.all(servers.map((s) => s?.exited));
    await store?.reset().catch(() => {});
    await redis?.del(`${prefix}journal`).catch(() => 0);
    await redis?.quit().catch(() => {});
    await database?.close();
    await scratch?.drop();
  });

  it(`survives ${KILLS} kills: nothing lost, nothing doubled, both stores agree`, async () => {
    const api = [new ApiClient(`http://127.0.0.1:${ports[0]}`), new ApiClient(`http://127.0.0.1:${ports[1]}`)];
    const admin = api[1]!.as(await api[1]!.devToken("admin_kill", "admin", undefined));
    const { advisors, clients } = await createBranchCrowd(admin, api[1]!, { name: "Kill", letter: "K", advisors: ADVISORS, clients: CLIENTS });

    // Any process that answers: a dead one refuses connections, so the call goes to the other.
    const statuses = new Map<number, number>();
    let n = 0;
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      for (let attempt = 0; attempt < 4; attempt++) {
        const target = api[(n++ + attempt) % 2]!.as(token);
        try {
          const res = await target.call(method, path, body);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 503) {
            await pause(100);
            continue;
          }
          return res;
        } catch {
          await pause(50);
        }
      }
      return null;
    };

    const created: string[] = [];
    let stop = false;
    const advisorLoop = async (a: { id: string; token: string }, seed: number) => {
      let k = seed;
      while (!stop) {
        await call(a.token, "PUT", "/v1/advisors/me/presence", { status: "available" });
        const offers = (await call(a.token, "GET", "/v1/advisors/me/offers"))?.body;
        for (const offer of Array.isArray(offers) ? offers : []) {
          if (k++ % 5 === 0) await call(a.token, "POST", `/v1/offers/${offer.offerId}/decline`);
          else {
            const accepted = await call(a.token, "POST", `/v1/offers/${offer.offerId}/accept`);
            if (accepted?.status === 200) {
              await pause(300);
              await call(a.token, "POST", `/v1/requests/${offer.requestId}/complete`);
            }
          }
        }
        await pause(150);
      }
    };
    const clientLoop = async (c: { id: string; token: string }, seed: number) => {
      let k = seed;
      while (!stop) {
        const res = await call(c.token, "POST", "/v1/requests", {
          topic: "kill test",
          requiredLicence: "fund_sales",
          channel: "chat",
          mode: k % 3 === 0 ? "grab" : "dispatch",
        });
        if (res && (res.status === 201 || res.status === 200)) {
          created.push(res.body.id);
          if (k % 4 === 0) {
            await pause(200);
            await call(c.token, "POST", `/v1/requests/${res.body.id}/cancel`);
          }
        }
        k++;
        await pause(400 + (k % 3) * 200);
      }
    };
    const killer = async () => {
      for (let kill = 0; kill < KILLS; kill++) {
        await pause(2_000 + Math.floor(Math.random() * 2_000));
        const victim = kill % 2;
        killHard(servers[victim]!);
        await servers[victim]!.exited;
        await pause(500);
        await start(victim);
      }
    };

    const loops = [...advisors.map((a, i) => advisorLoop(a, i)), ...clients.map((c, i) => clientLoop(c, i))];
    const started = Date.now();
    await killer();
    await pause(Math.max(0, LOAD_MS - (Date.now() - started)));
    stop = true;
    await Promise.all(loops);

    // Settle: the live processes persist the journal, time out open offers and finish the funnels.
    for (let i = 0; i < 60 && (await redis.xLen(`${prefix}journal`).catch(() => 0)) > 0; i++) await pause(500);
    expect(await redis.xLen(`${prefix}journal`).catch(() => 0), "journal fully persisted").toBe(0);
    await pause(2_000);
    // Decisions whose entry died with a process are repaired from the live store (as the reconciler job does).
    const records = createPrismaMatchingRecords(database);
    const repaired = await reconcile({
      store,
      records,
      recorder: directRecorder((d) => records.applyJournal(d)),
      now: Date.now,
      stageOf: async (r) => stageName(stagesFor(await records.policyFor(r.facts.branchId), r.facts.mode), r.stageIndex),
      graceMs: 0,
    });

    console.log(
      `process kill: ${KILLS} kills, ${created.length} requests created, statuses ${JSON.stringify(Object.fromEntries(statuses))}, reconciler ${JSON.stringify(repaired)}`,
    );
    expect(created.length).toBeGreaterThan(20);
    expect(statuses.get(500) ?? 0, "no 500s").toBe(0);
    const rows = await database.prisma.serviceRequest.findMany({ where: { id: { in: created } }, select: { id: true, status: true } });
    expect(rows.length, "every created request is recorded").toBe(new Set(created).size);
    for (const id of created) expect(await store.getRequest(id), `${id} in the live store`).not.toBeNull();
    await expectSettlesConsistent(() => ({ prisma: database.prisma, store, now: Date.now() }));
  }, 240_000);
});

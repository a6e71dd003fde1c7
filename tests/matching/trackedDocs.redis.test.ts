/**
 * Candidate documents kept under CLIENT TRACKING (matching/store/redis/trackedDocs.ts): a lookup
 * never judges an advisor by a document older than what Redis held when the lookup began, whoever
 * wrote it (another connection, another process), across deletions, flushes of the prefix and a
 * dropped tracking connection; and a kept document saves the read.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../platform/redis.ts";
import type { AdvisorProfile } from "../../matching/domain/types.ts";
import type { AdvisorState, CandidateQuery, MatchingStore } from "../../matching/store/port.ts";
import { createCandidateCache } from "../../matching/store/redis/decodedCache.ts";
import { keySpace, parseAdvisorKey } from "../../matching/store/redis/keys.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { createTrackedDocs } from "../../matching/store/redis/trackedDocs.ts";
import { describeWithServices, probeRedis, testKeyPrefix } from "../support/services.ts";
import { connectTestRedis, connectTestTracking } from "./support/redisStores.ts";

const T0 = Date.UTC(2026, 0, 5, 9);
const DAY = 86_400_000;
const BRANCH = "brn_tracked";
const ADVISORS = 12;

function advisor(i: number, maxConcurrent = 3): AdvisorProfile {
  return {
    id: `adv_tracked_${String(i).padStart(2, "0")}`,
    branchId: BRANCH,
    region: "north",
    status: "active",
    maxConcurrent,
    languages: ["en"],
    suitabilityMaxRisk: 1 + (i % 5),
    licences: [{ id: `lic_tracked_${i}`, kind: "fund_sales", number: `FS-${i}`, issuer: "FSA", validFrom: T0 - DAY, validUntil: T0 + DAY, status: "active" }],
  };
}

const query = (pool: "branch" | "national"): CandidateQuery => ({
  pool,
  poolId: pool === "branch" ? BRANCH : "*",
  licence: "fund_sales",
  language: "en",
  minRisk: 1,
  limit: 32,
});

/** Commands a client sent through sendCommand, by name. */
function commandLog(client: RedisClient) {
  const sent: string[] = [];
  const logged = Object.create(client) as RedisClient;
  logged.sendCommand = ((...args: Parameters<RedisClient["sendCommand"]>) => {
    sent.push(String((args[0] as string[])[0]));
    return client.sendCommand(...args);
  }) as RedisClient["sendCommand"];
  return { client: logged, sent };
}

const byId = (states: AdvisorState[]) => new Map(states.map((s) => [s.profile.id, s]));

describeWithServices("candidate documents kept under CLIENT TRACKING", [await probeRedis()], () => {
  let client: RedisClient;
  let tracking: RedisClient;
  const stores: MatchingStore[] = [];

  beforeAll(async () => {
    client = await connectTestRedis();
    tracking = await connectTestTracking();
  });

  afterAll(async () => {
    for (const store of stores) await store.reset().catch(() => {});
    await Promise.all([client.quit(), tracking.quit()]);
  });

  /** A live store writing through `client` and looking up through `lookupClient` (default: the tracking connection). */
  async function openStore(lookupClient: RedisClient = tracking) {
    const prefix = testKeyPrefix();
    const store = createRedisMatchingStore(client, { prefix, tracking: lookupClient });
    stores.push(store);
    await store.setGeneration("test");
    for (let i = 0; i < ADVISORS; i++) {
      await store.upsertAdvisor(advisor(i), T0);
      await store.setPresence(advisor(i).id, "available", T0);
    }
    return { store, prefix };
  }

  it("a write another connection finished before the lookup is always seen: 8 writers and 4 readers, 1,200 lookups", async () => {
    const { store } = await openStore();
    // The heartbeat each advisor's last finished write set; a lookup may see newer, never older.
    const finished = new Map<string, number>();
    for (let i = 0; i < ADVISORS; i++) finished.set(advisor(i).id, T0);
    let writing = true;
    // Each advisor has one writer, so its heartbeats only ever rise.
    const writers = Array.from({ length: 8 }, async (_, w) => {
      const own = Array.from({ length: ADVISORS }, (_, i) => advisor(i).id).filter((_, i) => i % 8 === w);
      while (writing) {
        const id = own[Math.floor(Math.random() * own.length)]!;
        const at = finished.get(id)! + 1 + Math.floor(Math.random() * 5);
        await store.setPresence(id, "available", at);
        finished.set(id, at);
      }
    });
    const stale: string[] = [];
    let judged = 0;
    const readers = Array.from({ length: 4 }, async (_, r) => {
      for (let n = 0; n < 300; n++) {
        const before = new Map(finished);
        const found = await store.findCandidates(query(r % 2 === 0 ? "branch" : "national"));
        for (const state of found) {
          judged += 1;
          if (state.supply.heartbeatAt < before.get(state.profile.id)!)
            stale.push(`${state.profile.id}: heartbeat ${state.supply.heartbeatAt} < ${before.get(state.profile.id)}`);
        }
      }
    });
    await Promise.all(readers);
    writing = false;
    await Promise.all(writers);
    expect(stale).toEqual([]);
    expect(judged).toBeGreaterThan(1_200 * ADVISORS * 0.9);
  });

  it("an advisor removed from Redis, or gone with the whole prefix, is not found from a kept document", async () => {
    const { store, prefix } = await openStore();
    const keys = keySpace(prefix);
    expect((await store.findCandidates(query("branch"))).length).toBe(ADVISORS);
    await client.del(keys.advisor(advisor(3).id));
    const after = byId(await store.findCandidates(query("branch")));
    expect(after.has(advisor(3).id)).toBe(false);
    expect(after.size).toBe(ADVISORS - 1);
    await store.reset();
    expect(await store.findCandidates(query("branch"))).toEqual([]);
  });

  it("a kept document is used without reading it again, and a changed one is read again", async () => {
    const logged = commandLog(tracking);
    const { store } = await openStore(logged.client);
    await store.findCandidates(query("branch"));
    await store.findCandidates(query("branch"));
    logged.sent.length = 0;
    const hot = await store.findCandidates(query("branch"));
    expect(hot.length).toBe(ADVISORS);
    // The heads' replies tell that no invalidation is on its way: no document read, no PING either.
    expect(logged.sent).not.toContain("MGET");
    expect(logged.sent).not.toContain("PING");
    // A full advisor leaves the list; a changed but still listed one is read afresh.
    await store.upsertAdvisor(advisor(5, 7), T0);
    logged.sent.length = 0;
    const after = byId(await store.findCandidates(query("branch")));
    expect(after.get(advisor(5).id)?.profile.maxConcurrent).toBe(7);
    expect(logged.sent).toContain("MGET");
  });

  it("a lookup with no memory of its query's last merge uses the documents the connection kept: no read, no PING", async () => {
    const logged = commandLog(tracking);
    const { store, prefix } = await openStore(logged.client);
    const first = await store.findCandidates(query("national"));
    await store.findCandidates(query("national"));
    // Another store on the same connection: its own lookup memory (empty), the connection's documents.
    const other = createRedisMatchingStore(client, { prefix, tracking: logged.client });
    logged.sent.length = 0;
    const found = await other.findCandidates(query("national"));
    expect(found.map((s) => s.profile.id)).toEqual(first.map((s) => s.profile.id));
    expect(logged.sent.filter((c) => c === "MGET" || c === "PING")).toEqual([]);
  });

  it("only the documents read are tracked: a change to a list the lookup read pushes no invalidation, a document's does", async () => {
    const own = await connectTestTracking();
    try {
      const pushed: string[] = [];
      own.on("invalidate", (key: unknown) => pushed.push(String(key)));
      const { store, prefix } = await openStore(own);
      await store.findCandidates(query("branch"));
      const keys = keySpace(prefix);
      const list = keys.candidates("branch", BRANCH, "fund_sales", "en", 1);
      expect(await client.exists(list)).toBe(1);
      await client.zAdd(list, { score: 0, value: "adv_tracked_nobody" });
      await client.set(keys.advisor(advisor(4).id), (await client.get(keys.advisor(advisor(4).id)))!);
      await own.sendCommand(["PING"]);
      expect(pushed).toEqual([keys.advisor(advisor(4).id)]);
    } finally {
      await own.quit();
    }
  });

  it("a document invalidated while its read is in flight is not kept: 300 reads racing 300 writes", async () => {
    const prefix = testKeyPrefix();
    const store = createRedisMatchingStore(client, { prefix });
    stores.push(store);
    await store.setGeneration("test");
    await store.upsertAdvisor(advisor(0), T0);
    const keys = keySpace(prefix);
    // Its own connection and cache: only this test's reads and invalidations.
    const own = await connectTestTracking();
    try {
      const docs = createTrackedDocs(own, createCandidateCache(), parseAdvisorKey, 100);
      const place = { prefix, keyOf: keys.advisor };
      const read = async () => (await docs.read([advisor(0).id], place))[0]!.value.supply.heartbeatAt;
      for (let n = 1; n <= 300; n++) {
        // The read is sent first; the write may run before or after it, and its invalidation may
        // arrive in the same chunk as the read's reply.
        const racing = read();
        await store.setPresence(advisor(0).id, "available", T0 + n);
        await racing;
        expect(await read()).toBe(T0 + n);
      }
    } finally {
      await own.quit();
    }
  });

  it("after the tracking connection is dropped and comes back, changes made meanwhile are seen", async () => {
    const own = await connectTestTracking();
    try {
      const { store } = await openStore(own);
      await store.findCandidates(query("branch"));
      await store.findCandidates(query("branch"));
      const id = Number(await own.sendCommand(["CLIENT", "ID"]));
      const back = new Promise<void>((resolve) => own.once("ready", () => resolve()));
      await client.sendCommand(["CLIENT", "KILL", "ID", String(id)]);
      // Written while the connection is gone: no invalidation can reach it.
      await store.upsertAdvisor(advisor(2, 9), T0);
      await back;
      const after = byId(await store.findCandidates(query("branch")));
      expect(after.get(advisor(2).id)?.profile.maxConcurrent).toBe(9);
    } finally {
      if (own.isOpen) await own.quit();
    }
  });

  describe("without a tracking connection", () => {
    it("every lookup reads its documents", async () => {
      const logged = commandLog(client);
      const prefix = testKeyPrefix();
      const store = createRedisMatchingStore(logged.client, { prefix });
      stores.push(store);
      await store.setGeneration("test");
      for (let i = 0; i < 4; i++) {
        await store.upsertAdvisor(advisor(i), T0);
        await store.setPresence(advisor(i).id, "available", T0);
      }
      await store.findCandidates(query("branch"));
      logged.sent.length = 0;
      expect((await store.findCandidates(query("branch"))).length).toBe(4);
      expect(logged.sent).toContain("MGET");
    });
  });
});

describe("parseAdvisorKey", () => {
  it("splits what KeySpace.advisor builds, and refuses every other key of the store", () => {
    for (const prefix of ["adx:", "test:abc123:", "bench:selection-100000:9f0e:", ""]) {
      const keys = keySpace(prefix);
      expect(parseAdvisorKey(keys.advisor("adv_x1"))).toEqual({ prefix, id: "adv_x1" });
      expect(parseAdvisorKey(`${keys.advisor("adv_x1")}:ix`)).toBeNull();
      expect(parseAdvisorKey(`${keys.advisor("adv_x1")}:snaps`)).toBeNull();
      expect(parseAdvisorKey(keys.request("req_x1"))).toBeNull();
      expect(parseAdvisorKey(keys.candidates("branch", "brn_1", "fund_sales", "en", 3))).toBeNull();
      expect(parseAdvisorKey(keys.queue)).toBeNull();
    }
  });
});

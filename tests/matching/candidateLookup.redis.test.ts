/**
 * The Redis candidate lookup's memory of its last merge (matching/store/redis/candidateLookup.ts):
 * a repeated lookup reads the documents it foresees in the heads' own round trip, and still answers
 * exactly what a lookup without that memory answers after the index has changed.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RedisClient } from "../../platform/redis.ts";
import type { AdvisorProfile, RequestFacts } from "../../matching/domain/types.ts";
import type { CandidateQuery, MatchingStore } from "../../matching/store/port.ts";
import { candidateQueryKeys, keySpace } from "../../matching/store/redis/keys.ts";
import { createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { describeWithServices, probeRedis, testKeyPrefix, uniqueTag } from "../support/services.ts";
import { connectTestRedis } from "./support/redisStores.ts";

const T0 = Date.UTC(2026, 0, 5, 9);
const DAY = 86_400_000;
const TTL = 45_000;
const BRANCH = "brn_lookup";

function advisor(i: number): AdvisorProfile {
  return {
    id: `adv_lookup_${String(i).padStart(2, "0")}`,
    branchId: BRANCH,
    region: "north",
    status: "active",
    maxConcurrent: 3,
    languages: ["en"],
    // Spread over the five scope lists, so the merge reads several lists.
    suitabilityMaxRisk: 1 + (i % 5),
    licences: [{ id: `lic_lookup_${i}`, kind: "fund_sales", number: `FS-${i}`, issuer: "FSA", validFrom: T0 - DAY, validUntil: T0 + DAY, status: "active" }],
  };
}

const facts: RequestFacts = {
  id: "req_lookup",
  clientId: "cli_lookup",
  branchId: BRANCH,
  region: "north",
  requiredLicence: "fund_sales",
  riskLevel: 1,
  language: "en",
  priority: 0,
  dedicatedAdvisorId: null,
  mode: "auto",
  createdAt: T0,
};

const query: CandidateQuery = { pool: "branch", poolId: BRANCH, licence: "fund_sales", language: "en", minRisk: 1, limit: 8 };

/**
 * The client the store reads through, with every command noted with the event-loop turn it was sent
 * in. A round trip ends in a reply, which is read in a later turn than the one that sent the
 * command, so the number of distinct turns of one lookup is its number of round trips.
 */
function countingClient(client: RedisClient) {
  let turn = 0;
  let closing = false;
  const turns: number[] = [];
  const counted = Object.create(client) as RedisClient;
  counted.sendCommand = ((...args: Parameters<RedisClient["sendCommand"]>) => {
    if (!closing) {
      closing = true;
      setImmediate(() => {
        turn += 1;
        closing = false;
      });
    }
    turns.push(turn);
    return client.sendCommand(...args);
  }) as RedisClient["sendCommand"];
  return {
    client: counted,
    /** Round trips of `run`'s commands sent through sendCommand. */
    async roundTrips<T>(run: () => Promise<T>): Promise<{ value: T; trips: number }> {
      turns.length = 0;
      const value = await run();
      return { value, trips: new Set(turns).size };
    },
  };
}

/**
 * A client that logs the commands sent through sendCommand and, once armed, runs `after` once, when
 * the reply to the next MGET that names `key` has come back and before it is handed on: a write
 * another process makes between two of a lookup's round trips.
 */
function interleavingClient(client: RedisClient, key: string, after: () => Promise<void>) {
  const sent: string[] = [];
  let armed = false;
  const wrapped = Object.create(client) as RedisClient;
  wrapped.sendCommand = (async (...args: Parameters<RedisClient["sendCommand"]>) => {
    const command = args[0] as string[];
    sent.push(String(command[0]));
    const reply = await client.sendCommand(...args);
    if (armed && command[0] === "MGET" && command.includes(key)) {
      armed = false;
      await after();
    }
    return reply;
  }) as RedisClient["sendCommand"];
  return {
    client: wrapped,
    sent,
    arm: () => {
      armed = true;
    },
  };
}

describeWithServices("candidate lookup on Redis: the last merge foreseen", [await probeRedis()], () => {
  const prefix = testKeyPrefix();
  let client: RedisClient;
  let store: MatchingStore;
  let counting: ReturnType<typeof countingClient>;
  const ids = (states: Array<{ profile: { id: string } }>) => states.map((s) => s.profile.id);
  /** The same query through a store that has never looked anything up. */
  const fresh = () => createRedisMatchingStore(client, { prefix }).findCandidates(query);

  beforeAll(async () => {
    client = await connectTestRedis();
    counting = countingClient(client);
    store = createRedisMatchingStore(counting.client, { prefix });
    await store.setGeneration("test");
    for (let i = 0; i < 30; i++) {
      await store.upsertAdvisor(advisor(i), T0);
      await store.setPresence(advisor(i).id, "available", T0);
    }
  });

  afterAll(async () => {
    await store?.reset();
    await client?.quit();
  });

  it("reads the heads before the foreseen documents, and reads again a foreseen document whose head came in a later trip", async () => {
    const ownPrefix = testKeyPrefix();
    const branchId = `brn_${uniqueTag()}`;
    const plain = createRedisMatchingStore(client, { prefix: ownPrefix });
    await plain.setGeneration("test");
    const one = (id: string): AdvisorProfile => ({ ...advisor(0), id, branchId, suitabilityMaxRisk: 5 });
    const q: CandidateQuery = { ...query, poolId: branchId, minRisk: 5, limit: 4 };
    for (const id of ["adv_q_50", "adv_q_60", "adv_q_70", "adv_q_80"]) {
      await plain.upsertAdvisor(one(id), T0);
      await plain.setPresence(id, "available", T0);
    }
    try {
      const x = "adv_q_80";
      const logged = interleavingClient(client, keySpace(ownPrefix).advisor(x), async () => {
        await plain.setPresence(x, "available", T0 + 2_000);
      });
      const store = createRedisMatchingStore(logged.client, { prefix: ownPrefix });
      expect(ids(await store.findCandidates(q))).toEqual(["adv_q_50", "adv_q_60", "adv_q_70", "adv_q_80"]);
      // x goes away (out of the list), and ten entries without documents come first in the list, so
      // x's head is read only after a few trips; x is back right after the first trip.
      await plain.setPresence(x, "away", T0 + 1_000);
      const list = candidateQueryKeys(keySpace(ownPrefix), q)[0]!;
      await client.zAdd(
        list,
        Array.from({ length: 10 }, (_, i) => ({ score: 0, value: `adv_q_0${i}` })),
      );
      logged.sent.length = 0;
      logged.arm();
      const found = ids(await store.findCandidates(q));
      // Its first trip: the heads, then the foreseen documents (Redis runs them in that order).
      expect(logged.sent.slice(0, 2)).toEqual(["ZRANGE", "MGET"]);
      // x's document as the first trip read it said away; its head came later, so it was read again.
      expect(found).toEqual(["adv_q_50", "adv_q_60", "adv_q_70", "adv_q_80"]);
      expect(found).toEqual(ids(await createRedisMatchingStore(client, { prefix: ownPrefix }).findCandidates(q)));
    } finally {
      await plain.reset();
    }
  });

  it("a repeated lookup of an unchanged index takes one round trip instead of two, with the same answer", async () => {
    const first = await counting.roundTrips(() => store.findCandidates(query));
    expect(ids(first.value)).toEqual(Array.from({ length: 8 }, (_, i) => advisor(i).id));
    expect(first.trips).toBe(2);
    const again = await counting.roundTrips(() => store.findCandidates(query));
    expect(ids(again.value)).toEqual(ids(first.value));
    expect(again.trips).toBe(1);
  });

  it("after the heads change, it answers what a lookup without memory answers: reordered, dropped and new advisors", async () => {
    const before = ids(await store.findCandidates(query));
    // The first two are assigned (their lastAssignedAt moves them behind everyone), the third goes
    // away (out of the index), the fourth stops speaking English (out of this list).
    await store.takeAssignment(before[0]!, facts, "off_lookup_1", T0 + 1_000, TTL);
    await store.takeAssignment(before[1]!, { ...facts, id: "req_lookup_2" }, "off_lookup_2", T0 + 2_000, TTL);
    await store.setPresence(before[2]!, "away", T0 + 3_000);
    await store.upsertAdvisor({ ...advisor(3), languages: ["fr"] }, T0 + 3_000);

    const after = await counting.roundTrips(() => store.findCandidates(query));
    const expected = Array.from({ length: 8 }, (_, i) => advisor(i + 4).id);
    expect(ids(after.value)).toEqual(expected);
    expect(ids(await fresh())).toEqual(expected);
    // Foreseen: advisors 4 to 8 (8 as the spare head). Not foreseen (a second trip): 9 to 11.
    expect(after.trips).toBe(2);

    // With a limit past the unassigned ones, the assigned two come last, in order of assignment.
    const wide = { ...query, limit: 40 };
    const all = ids(await store.findCandidates(wide));
    expect(all.slice(-2)).toEqual([before[0], before[1]]);
    expect(all).toEqual(ids(await createRedisMatchingStore(client, { prefix }).findCandidates(wide)));
  });

  it("when one advisor leaves the top, the newcomer was foreseen too: still one round trip", async () => {
    const before = ids(await store.findCandidates(query));
    await store.takeAssignment(before[0]!, { ...facts, id: "req_lookup_3" }, "off_lookup_3", T0 + 4_000, TTL);
    const after = await counting.roundTrips(() => store.findCandidates(query));
    expect(ids(after.value)).toEqual(ids(await fresh()));
    expect(ids(after.value)).toEqual([...before.slice(1), advisor(12).id]);
    expect(after.trips).toBe(1);
  });
});

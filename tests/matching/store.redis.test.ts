/**
 * The Redis matching store: the shared contract suite against a real Redis, plus what only the
 * Redis adapter can get wrong: script loading (NOSCRIPT), the Lua mirror of checkEligibility and
 * updateResponsiveness, JSON encoding (cjson's empty tables and 14-digit numbers), hash tags,
 * races between separate connections, and convergence of the global index structures.
 */
import fc from "fast-check";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisClient } from "../../platform/redis.ts";
import { checkEligibility, type CapacityRule, type EligibilityInput } from "../../matching/domain/eligibility.ts";
import { EMPTY_STATS, updateResponsiveness, type OfferAnswer } from "../../matching/domain/ranking.ts";
import { LICENCE_KINDS, type AdvisorProfile, type LicenceFact, type RequestFacts } from "../../matching/domain/types.ts";
import { LiveStateUnavailableError, type AdvisorState, type LiveRequest, type MatchingStore, type OfferState } from "../../matching/store/port.ts";
import { ACTION_SCRIPTS, CODES, FENCED_SCRIPTS, outcomeOf, SCRIPT_NAMES } from "../../matching/store/redis/codes.ts";
import { candidateEntries, hashTagOf, keySlot, keySpace, presenceEntries } from "../../matching/store/redis/keys.ts";
import { scripts } from "../../matching/store/redis/scripts.ts";
import { asArray } from "../../matching/store/redis/decode.ts";
import { checkEligibilityInLua, createRedisMatchingStore } from "../../matching/store/redis/store.ts";
import { describeWithServices, probeRedis, TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "../support/services.ts";
import { storeContract } from "./support/storeContract.ts";
import { connectTestTracking } from "./support/redisStores.ts";
import { materialize, type AcceptContext } from "../../matching/journal/draft.ts";
import { createRedisJournal } from "../../matching/journal/redis.ts";

const T0 = Date.UTC(2026, 0, 5, 9);
const SEC = 1_000;
const TTL = 45 * SEC;
const DAY = 86_400_000;

const clients: RedisClient[] = [];

async function connect(): Promise<RedisClient> {
  const client = createClient({ url: TEST_REDIS_URL });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

/**
 * A store in its own namespace, live (its generation set, as after a start's rebuild, so fenced
 * scripts run); every namespace opened here is wiped after the file.
 */
const opened: MatchingStore[] = [];
async function openStore(client: RedisClient, prefix = testKeyPrefix()): Promise<MatchingStore> {
  const store = createRedisMatchingStore(client, { prefix });
  opened.push(store);
  await store.setGeneration("test");
  return store;
}

// ---- fixtures --------------------------------------------------------------------------------------

function licence(overrides: Partial<LicenceFact> = {}): LicenceFact {
  return {
    id: `lic_${uniqueTag()}`,
    kind: "fund_sales",
    number: "FS-1",
    issuer: "FSA",
    validFrom: T0 - 365 * DAY,
    validUntil: T0 + 365 * DAY,
    status: "active",
    ...overrides,
  };
}

function profile(overrides: Partial<AdvisorProfile> = {}): AdvisorProfile {
  return {
    id: `adv_${uniqueTag()}`,
    branchId: "brn_1",
    region: "north",
    status: "active",
    maxConcurrent: 3,
    languages: ["en"],
    suitabilityMaxRisk: 5,
    licences: [licence()],
    ...overrides,
  };
}

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    id: `req_${uniqueTag()}`,
    clientId: `cli_${uniqueTag()}`,
    branchId: "brn_1",
    region: "north",
    requiredLicence: "fund_sales",
    riskLevel: 3,
    language: "en",
    priority: 0,
    dedicatedAdvisorId: null,
    mode: "grab",
    createdAt: T0,
    ...overrides,
  };
}

function offer(requestId: string, advisorId: string, overrides: Partial<OfferState> = {}): OfferState {
  return {
    id: `off_${uniqueTag()}`,
    requestId,
    advisorId,
    kind: "broadcast",
    stageIndex: 0,
    sentAt: T0,
    expiresAt: T0 + 30 * SEC,
    outcome: null,
    respondedAt: null,
    ...overrides,
  };
}

async function online(store: MatchingStore, overrides: Partial<AdvisorProfile> = {}): Promise<AdvisorState> {
  const p = profile(overrides);
  await store.upsertAdvisor(p, T0);
  const presence = await store.setPresence(p.id, "available", T0);
  if (!presence.ok) throw new Error("fixture advisor missing");
  return presence.advisor;
}

// ---- generators for the eligibility equivalence ------------------------------------------------------

const MAX_TIME = 8_640_000_000_000_000n; // the largest valid Date (toISOString throws beyond)
const LANGUAGES = ["en", "EN", "fr", "Fr", "de", "zh-Hant", "İ", "i̇", "ß", "SS", ""];

/** Integers, with -0 turned into 0 (JSON has no -0). */
const int = (min: number, max: number) => fc.integer({ min, max });
const positiveZero = (x: number): number => x + 0;

const eligibilityInput: fc.Arbitrary<EligibilityInput> = fc
  .record({
    now: fc.oneof(
      int(0, 2_000_000_000).map((x) => T0 + x),
      fc.bigInt({ min: -MAX_TIME / 2n, max: MAX_TIME / 2n }).map(Number),
    ),
    heartbeatOffset: fc.oneof(int(-120_000, 120_000), fc.constantFrom(-45_000, -44_999, 0), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    ttl: fc.oneof(fc.constantFrom(45_000, 0, 1), int(0, 120_000), fc.double({ min: 0, max: 1e5, noNaN: true })),
    status: fc.constantFrom("active", "active", "suspended", "offboarded"),
    presence: fc.constantFrom("available", "available", "away", "offline"),
    maxConcurrent: int(0, 4),
    active: int(0, 5),
    pendingPush: int(0, 5),
    licences: fc.array(
      fc.record({
        kind: fc.constantFrom(...LICENCE_KINDS),
        status: fc.constantFrom("active", "active", "suspended", "revoked"),
        from: fc.oneof(int(-3 * DAY, 3 * DAY), fc.constantFrom(0, 1), fc.bigInt({ min: -MAX_TIME, max: MAX_TIME }).map(Number)),
        until: fc.oneof(int(-3 * DAY, 3 * DAY), fc.constantFrom(0, 1, DAY), fc.bigInt({ min: -MAX_TIME, max: MAX_TIME }).map(Number)),
        absolute: fc.boolean(),
        number: fc.string({ maxLength: 6 }),
        issuer: fc.string({ maxLength: 6 }),
      }),
      { maxLength: 4 },
    ),
    languages: fc.array(fc.constantFrom(...LANGUAGES), { maxLength: 3 }),
    suitabilityMaxRisk: fc.oneof(int(0, 6), fc.constantFrom(2.5)),
    riskLevel: fc.oneof(int(0, 6), fc.constantFrom(2.5)),
    requiredLicence: fc.constantFrom(...LICENCE_KINDS),
    language: fc.option(fc.constantFrom(...LANGUAGES), { nil: null }),
    rule: fc.constantFrom<CapacityRule>("push", "broadcast", "accept"),
    excluded: fc.constantFrom(undefined, false, true, false, undefined),
  })
  .map((g): EligibilityInput => {
    const clampTime = (t: number) => Math.max(-8.64e15, Math.min(8.64e15, t));
    const input: EligibilityInput = {
      advisor: {
        id: "adv_x",
        branchId: "brn_1",
        region: "north",
        status: g.status as AdvisorProfile["status"],
        maxConcurrent: g.maxConcurrent,
        languages: g.languages,
        suitabilityMaxRisk: g.suitabilityMaxRisk,
        licences: g.licences.map((l, i) => ({
          id: `lic_${i}`,
          kind: l.kind,
          number: l.number,
          issuer: l.issuer,
          // Mostly around `now` (boundaries, ties), sometimes anywhere in the Date range.
          validFrom: clampTime(l.absolute ? l.from : g.now + l.from),
          validUntil: clampTime(l.absolute ? l.until : g.now + l.until),
          status: l.status as LicenceFact["status"],
        })),
      },
      supply: {
        presence: g.presence as AdvisorState["supply"]["presence"],
        heartbeatAt: positiveZero(g.now + g.heartbeatOffset),
        active: g.active,
        pendingPush: g.pendingPush,
      },
      request: facts({ id: "req_x", requiredLicence: g.requiredLicence, riskLevel: g.riskLevel, language: g.language }),
      now: g.now,
      presenceTtlMs: positiveZero(g.ttl),
      capacityRule: g.rule,
    };
    if (g.excluded !== undefined) input.excluded = g.excluded;
    return input;
  });

// ---- the suites ----------------------------------------------------------------------------------

describeWithServices("matching store: redis", [await probeRedis()], () => {
  let client: RedisClient;

  beforeAll(async () => {
    client = await connect();
  });

  afterAll(async () => {
    for (const store of opened) await store.reset().catch(() => {});
    for (const c of clients) if (c.isOpen) await c.quit().catch(() => {});
  });

  storeContract("matching store contract: redis", async () => createRedisMatchingStore(client, { prefix: testKeyPrefix() }));

  // As a server runs it: candidates looked up through a tracking connection that keeps their documents.
  describe("with a tracking connection", () => {
    let tracking: RedisClient;
    beforeAll(async () => {
      tracking = await connectTestTracking();
    });
    afterAll(async () => {
      if (tracking.isOpen) await tracking.quit();
    });
    storeContract("matching store contract: redis, candidates tracked", async () => createRedisMatchingStore(client, { prefix: testKeyPrefix(), tracking }));
  });

  describe("scripts", () => {
    it("every operation is one Lua file whose header documents KEYS, ARGV and the result", () => {
      for (const name of SCRIPT_NAMES) {
        const { source, sha } = scripts()[name];
        expect(source.startsWith("--[["), name).toBe(true);
        const header = source.slice(0, source.indexOf("]]"));
        expect(header, name).toMatch(/KEYS/);
        expect(header, name).toMatch(/Result/);
        if (name !== "checkEligibility") expect(header, name).toMatch(/ARGV\[1\]/);
        expect(source, name).not.toMatch(/^--@include/m);
        expect(sha).toMatch(/^[0-9a-f]{40}$/);
      }
    });

    it("falls back to EVAL after SCRIPT FLUSH (NOSCRIPT), and EVALSHA works again afterwards", async () => {
      const calls: string[] = [];
      const watched = spyClient(client, (method) => calls.push(method));
      const store = await openStore(watched);
      const a = await online(store);
      expect(calls.filter((c) => c === "eval")).toEqual([]);

      await client.scriptFlush();
      calls.length = 0;
      const held = await store.holdPushSlot(a.profile.id, facts(), "off_1", T0 + SEC, TTL);
      expect(held.ok).toBe(true);
      expect(calls).toEqual(["evalSha", "eval"]);

      // The next call (another script) re-loads every script once and runs by SHA again.
      calls.length = 0;
      expect(await store.releasePushHold(a.profile.id, "off_1")).not.toBeNull();
      expect(calls.filter((c) => c === "scriptLoad")).toHaveLength(SCRIPT_NAMES.length);
      expect(calls.filter((c) => c.startsWith("eval"))).toEqual(["evalSha"]);
      calls.length = 0;
      await store.recordRating(a.profile.id, 4);
      expect(calls).toEqual(["evalSha"]);

      // A client that never loaded (new process, failover) also runs after a flush.
      await client.scriptFlush();
      const fresh = await openStore(await connect());
      expect((await fresh.setPresence("adv_unknown", "available", T0)).ok).toBe(false);
    });

    it("maps codes in one place and treats an undocumented code as a fault", () => {
      expect(outcomeOf("claimOffer", [CODES.ALREADY_TAKEN])).toEqual({ ok: false, reason: "ALREADY_TAKEN", payload: [] });
      expect(outcomeOf("claimDueDeadlines", [CODES.OK, "a", "b"])).toEqual({ ok: true, duplicate: false, payload: ["a", "b"] });
      expect(outcomeOf("createRequest", CODES.DUPLICATE)).toMatchObject({ ok: true, duplicate: true });
      expect(() => outcomeOf("claimOffer", [CODES.CAPACITY])).toThrow(/unexpected code/);
      expect(() => outcomeOf("addOffers", [999])).toThrow(/unexpected code/);
      expect(() => outcomeOf("addOffers", "OK")).toThrow(/unexpected code/);
      // The fence: a fault every fenced script may raise, never an outcome; no other script answers it.
      for (const name of FENCED_SCRIPTS) expect(() => outcomeOf(name, [CODES.REBUILDING]), name).toThrow(LiveStateUnavailableError);
      expect(() => outcomeOf("restoreAdvisor", [CODES.REBUILDING])).toThrow(/unexpected code/);
      expect(() => outcomeOf("renewLease", [CODES.REBUILDING])).toThrow(/unexpected code/);
    });
  });

  describe("eligibility in Lua mirrors checkEligibility", () => {
    it("gives the same verdict, reason, detail and snapshot on generated inputs", async () => {
      await fc.assert(
        fc.asyncProperty(eligibilityInput, async (input) => {
          expect(await checkEligibilityInLua(client, input)).toEqual(checkEligibility(input));
        }),
        { numRuns: 1500 },
      );
    });

    it("covers every reason and formats far-away dates and fractional numbers like JS", async () => {
      const base: EligibilityInput = {
        advisor: profile({ licences: [licence({ validFrom: -62_198_755_200_001, validUntil: -62_198_755_200_000 })] }),
        supply: { presence: "available", heartbeatAt: T0 - 0.25, active: 0, pendingPush: 0 },
        request: facts(),
        now: T0,
        presenceTtlMs: TTL,
        capacityRule: "push",
      };
      const variants: EligibilityInput[] = [
        { ...base, excluded: true },
        { ...base, advisor: { ...base.advisor, status: "offboarded" } },
        { ...base, supply: { ...base.supply, heartbeatAt: T0 - 45_000.5 } },
        { ...base, supply: { ...base.supply, active: 2, pendingPush: 1 } },
        base, // LICENCE expired in year -0001
        { ...base, advisor: { ...base.advisor, licences: [licence({ validFrom: 8.64e15 - 1, validUntil: 8.64e15 })] } }, // +275760
        { ...base, advisor: { ...base.advisor, licences: [licence({ validFrom: -DAY, validUntil: -1.5 })] } }, // Date truncates: ...59.999Z
        { ...base, advisor: { ...base.advisor, licences: [licence({ validFrom: T0 + 0.75, validUntil: T0 + DAY })] } }, // not valid until
        { ...base, advisor: { ...base.advisor, licences: [licence({ status: "revoked" })] } },
        { ...base, advisor: { ...base.advisor, licences: [licence()], suitabilityMaxRisk: 1e-7 } },
        { ...base, advisor: { ...base.advisor, licences: [licence()], languages: ["Fr", "DE"] } },
        { ...base, advisor: { ...base.advisor, licences: [licence()], suitabilityMaxRisk: 1e21 }, request: facts({ riskLevel: 2e21 }) },
      ];
      const reasons = [];
      for (const input of variants) {
        const expected = checkEligibility(input);
        expect(await checkEligibilityInLua(client, input)).toEqual(expected);
        reasons.push(expected.eligible ? "OK" : expected.reason);
      }
      expect(reasons).toEqual([
        "EXCLUDED",
        "STATUS",
        "PRESENCE",
        "CAPACITY",
        "LICENCE",
        "LICENCE",
        "LICENCE",
        "LICENCE",
        "LICENCE",
        "SUITABILITY",
        "LANGUAGE",
        "SUITABILITY",
      ]);
    });

    it("the capacity operations give checkEligibility's verdict on the stored advisor", async () => {
      const store = await openStore(client);
      await fc.assert(
        fc.asyncProperty(eligibilityInput, fc.boolean(), async (input, broadcast) => {
          const id = `adv_${uniqueTag()}`;
          const rule: CapacityRule = broadcast ? "broadcast" : input.capacityRule;
          // Make the stored lists agree with the counters, with the accepted offer among the holds.
          const holds = Array.from({ length: input.supply.pendingPush }, (_, i) => `off_${i}`);
          const state: AdvisorState = {
            profile: { ...input.advisor, id },
            supply: input.supply,
            stats: { ...EMPTY_STATS },
            assignments: Array.from({ length: input.supply.active }, (_, i) => `req_held_${i}`),
            pushHolds: holds,
          };
          if (rule === "accept" && holds.length === 0) return; // accept needs a hold to convert
          await store.restoreAdvisor(state);
          const expected = checkEligibility({ ...input, advisor: state.profile, capacityRule: rule, excluded: false });
          const result =
            rule === "broadcast"
              ? await store.checkBroadcastEligibility(id, input.request, input.now, input.presenceTtlMs)
              : rule === "push"
                ? await store.holdPushSlot(id, input.request, "off_new", input.now, input.presenceTtlMs)
                : await store.takeAssignment(id, input.request, "off_0", input.now, input.presenceTtlMs);
          if (expected.eligible) {
            expect(result).toMatchObject({ ok: true, duplicate: false });
            if (result.ok) expect(result.snapshot).toEqual(expected.snapshot);
          } else {
            expect(result).toEqual({ ok: false, reason: expected.reason, detail: expected.detail });
            expect(await store.getAdvisor(id)).toEqual(state); // refused: nothing changed
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("recordAnswer in Lua mirrors updateResponsiveness", () => {
    it("gives bit-identical stats for generated answer sequences", async () => {
      const store = await openStore(client);
      const answer: fc.Arbitrary<OfferAnswer> = fc.oneof(
        fc.constant<OfferAnswer>({ accepted: false }),
        fc.double({ min: -5_000, max: 600_000, noNaN: true }).map((latencyMs): OfferAnswer => ({ accepted: true, latencyMs: latencyMs + 0 })),
        int(0, 60_000).map((latencyMs): OfferAnswer => ({ accepted: true, latencyMs })),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 12 }), async (answers) => {
          const a = await online(store);
          let expected = a.stats;
          for (const x of answers) {
            await store.recordAnswer(a.profile.id, x);
            expected = updateResponsiveness(expected, x, 0.2);
          }
          expect((await store.getAdvisor(a.profile.id))?.stats).toEqual(expected);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe("JSON documents", () => {
    it("cjson writes empty arrays as {} — which is why the adapter encodes itself and normalises on read", async () => {
      expect(await client.eval("return cjson.encode(cjson.decode('[]'))")).toBe("{}");
      expect(asArray({})).toEqual([]);
      expect(asArray(["a"])).toEqual(["a"]);
    });

    it("empty arrays come back as arrays, in Redis and in Node", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const p = profile({ languages: [], licences: [] });
      const created = await store.upsertAdvisor(p, T0);
      expect(created).toMatchObject({ assignments: [], pushHolds: [], profile: { languages: [], licences: [] } });
      const raw = JSON.parse((await client.get(keys.advisor(p.id)))!);
      expect(raw.assignments).toEqual([]);
      expect(raw.pushHolds).toEqual([]);
      expect(raw.profile.languages).toEqual([]);

      const a = await online(store, { languages: [] });
      const checked = await store.checkBroadcastEligibility(a.profile.id, facts({ language: null }), T0 + SEC, TTL);
      expect(checked).toMatchObject({ ok: true, snapshot: { language: { requested: null, advisor: [] } } });

      const f = facts();
      const { request } = await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + 60 * SEC });
      expect(request).toMatchObject({ excluded: [], offers: [] });
      const finished = await store.finishRequest(f.id, { to: "cancelled", now: T0 + SEC });
      expect(finished).toMatchObject({ ok: true, withdrawn: [] });
      expect(await store.getRequest(f.id)).toMatchObject({ excluded: [], offers: [] });
    });

    it("documents written with {} for empty arrays (plain cjson.encode) still read and update correctly", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const p = profile({ languages: [] });
      const doc = {
        profile: { ...p, languages: {} },
        supply: { presence: "available", heartbeatAt: T0, active: 0, pendingPush: 0 },
        stats: EMPTY_STATS,
        assignments: {},
        pushHolds: {},
        rev: 1,
      };
      await client.set(keys.advisor(p.id), JSON.stringify(doc));
      expect(await store.getAdvisor(p.id)).toMatchObject({ assignments: [], pushHolds: [], profile: { languages: [] } });
      const held = await store.holdPushSlot(p.id, facts({ language: null }), "off_1", T0 + SEC, TTL);
      expect(held).toMatchObject({ ok: true, advisor: { pushHolds: ["off_1"], assignments: [] } });
      expect(await store.releasePushHold(p.id, "off_1")).toMatchObject({ pushHolds: [], assignments: [] });

      const f = facts();
      const request = {
        facts: f,
        status: "pending",
        stageIndex: 0,
        stageStartedAt: T0,
        offersInStage: 0,
        assignedAdvisorId: null,
        excluded: {},
        offers: {},
        queueScore: null,
        callbackRequested: false,
        updatedAt: T0,
        rev: 1,
      };
      await client.set(keys.request(f.id), JSON.stringify(request));
      expect(await store.getRequest(f.id)).toMatchObject({ excluded: [], offers: [] });
      expect(await store.addOffers(f.id, 0, [offer(f.id, "adv_1")], T0 + SEC)).toMatchObject({ ok: true, request: { status: "offered" } });
    });

    it("keeps every number exact (cjson.encode would keep only 14 digits)", async () => {
      const store = await openStore(client);
      const p = profile({ licences: [licence({ validFrom: -8.64e15, validUntil: Number.MAX_SAFE_INTEGER, number: 'x/"\\\u0001é' })] });
      const state: AdvisorState = {
        profile: p,
        supply: { presence: "available", heartbeatAt: T0 + 0.1, active: 0, pendingPush: 0 },
        stats: { ratingSum: 0.1 + 0.2, ratingCount: 3, latencyEwmaMs: 1 / 3, acceptEwma: 5e-324, lastAssignedAt: 2 ** 53 - 1, incentive: 1e-7 },
        assignments: [],
        pushHolds: [],
      };
      await store.restoreAdvisor(state);
      expect(await store.getAdvisor(p.id)).toEqual(state);
      await store.recordRating(p.id, 0.7);
      expect((await store.getAdvisor(p.id))?.stats.ratingSum).toBe(0.1 + 0.2 + 0.7);

      // The encoder marks inexact numbers as "\u0001<text>\u0001" for one gsub (lib/json.lua): a
      // string of the data shaped like a mark must survive as a string (the walk takes over), in a
      // field cjson writes before the marked ones (assignments) as well as after (the profile).
      const lookalike = {
        ...state,
        supply: { ...state.supply, heartbeatAt: T0, active: 1 },
        stats: { ...state.stats, lastAssignedAt: T0 },
        assignments: ["\u00011\u0001"],
        profile: { ...p, id: `${p.id}_mark`, licences: [licence({ number: "\u00011\u0001", issuer: "\u0001[]\u0001" })] },
      };
      await store.restoreAdvisor(lookalike);
      expect(await store.getAdvisor(lookalike.profile.id)).toEqual(lookalike);
      await store.recordRating(lookalike.profile.id, 0.7);
      const rated = { ...lookalike.stats, ratingSum: 0.1 + 0.2 + 0.7, ratingCount: lookalike.stats.ratingCount + 1 };
      expect(await store.getAdvisor(lookalike.profile.id)).toEqual({ ...lookalike, stats: rated });

      // A fraction that %.14g rounds to a whole number (999999.9999999951 -> "1000000") has neither a
      // '.' nor an exponent in cjson's text: found by the capacity property test against a guard
      // that looked for those.
      const rounded = { ...state, supply: { ...state.supply, heartbeatAt: 999999.9999999951 }, profile: { ...p, id: `${p.id}_round` } };
      await store.restoreAdvisor(rounded);
      expect(await store.getAdvisor(rounded.profile.id)).toEqual(rounded);
    });
    it("an advisor's text starts with its profile, whose text a write reuses until upsertAdvisor replaces the profile", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      // Characters that a cut at the wrong place or a stale text would show: quotes, a backslash,
      // commas and braces, the encoder's mark character, non-ASCII; and numbers cjson would round.
      const tricky = licence({ number: 'a,"b"}{\\\u0001é', validFrom: -8.64e15, validUntil: Number.MAX_SAFE_INTEGER });
      const first = profile({ languages: ["en", "fr"], licences: [tricky, licence()] });
      /** The stored profile, after checking that the text's cut where pl says (in bytes) parses to it. */
      const stored = async (id: string) => {
        const raw = Buffer.from((await client.get(keys.advisor(id)))!);
        const doc = JSON.parse(raw.toString());
        expect(raw.subarray(0, 11).toString()).toBe('{"profile":');
        expect(raw.subarray(11 + doc.pl, 12 + doc.pl).toString()).toBe(",");
        expect(JSON.parse(raw.subarray(11, 11 + doc.pl).toString())).toEqual(doc.profile);
        return doc.profile as AdvisorProfile;
      };

      await store.upsertAdvisor(first, T0);
      expect(await stored(first.id)).toEqual(first);
      expect((await store.setPresence(first.id, "available", T0)).ok).toBe(true);
      expect((await store.holdPushSlot(first.id, facts({ language: "fr" }), "off_1", T0 + SEC, TTL)).ok).toBe(true);
      expect(await store.releasePushHold(first.id, "off_1")).toMatchObject({ profile: first, pushHolds: [] });
      expect(await stored(first.id)).toEqual(first);

      // A new profile (other languages, one licence fewer) replaces the reused text at once.
      const second = { ...first, languages: ["de"], licences: [tricky], maxConcurrent: 1 };
      await store.upsertAdvisor(second, T0 + 2 * SEC);
      expect(await stored(first.id)).toEqual(second);
      const held = await store.holdPushSlot(first.id, facts({ language: "de" }), "off_2", T0 + 3 * SEC, TTL);
      expect(held).toMatchObject({ ok: true, advisor: { profile: second } });
      await store.recordRating(first.id, 4);
      expect(await stored(first.id)).toEqual(second);
      expect((await store.getAdvisor(first.id))?.profile).toEqual(second);

      // Reused, not re-encoded: a profile text spaced as no encoder writes it survives a write verbatim.
      const { pl: _pl, profile: current, ...rest } = JSON.parse((await client.get(keys.advisor(first.id)))!);
      const spaced = JSON.stringify(current, null, 1);
      const handWritten = `{"profile":${spaced},"pl":${Buffer.byteLength(spaced)},${JSON.stringify(rest).slice(1)}`;
      await client.set(keys.advisor(first.id), handWritten);
      await store.recordRating(first.id, 3);
      expect((await client.get(keys.advisor(first.id)))!.startsWith(`{"profile":${spaced},`)).toBe(true);
      expect(await stored(first.id)).toEqual(second);

      // A restored text has no pl: its next write encodes the profile and adds it.
      const restored: AdvisorState = { ...(await store.getAdvisor(first.id))!, profile: { ...second, region: "south" } };
      await store.restoreAdvisor(restored);
      expect(JSON.parse((await client.get(keys.advisor(first.id)))!).pl).toBeUndefined();
      await store.recordRating(first.id, 5);
      expect(await stored(first.id)).toEqual(restored.profile);
      expect((await store.getAdvisor(first.id))?.profile).toEqual(restored.profile);
    });

    it("a request's text starts with its offers, whose text a write reuses while they are as read, and extends when offers are added", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const [a, b, c] = [await online(store), await online(store), await online(store)];
      const f = facts();
      const ok = <R extends { ok: boolean }>(result: R): Extract<R, { ok: true }> => {
        if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
        return result as Extract<R, { ok: true }>;
      };
      /** The stored offers, after checking that the text's cut where ol says (in bytes) parses to them. */
      const stored = async () => {
        const raw = Buffer.from((await client.get(keys.request(f.id)))!);
        const doc = JSON.parse(raw.toString());
        expect(raw.subarray(0, 10).toString()).toBe('{"offers":');
        expect(raw.subarray(10 + doc.ol, 11 + doc.ol).toString()).toBe(",");
        expect(JSON.parse(raw.subarray(10, 10 + doc.ol).toString())).toEqual(doc.offers);
        expect((await store.getRequest(f.id))?.offers).toEqual(doc.offers);
        return doc.offers as OfferState[];
      };
      await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + 60 * SEC });
      expect(await stored()).toEqual([]);
      // Strings that a wrong cut or a stale text would show.
      const toA = offer(f.id, a.profile.id, { id: `off_${uniqueTag()}_"],{é\u0001`, sentAt: T0 + 0.5 });
      ok(await store.addOffers(f.id, 0, [toA], T0));
      expect(await stored()).toEqual([toA]);

      // Reused, not re-encoded: offers spaced as no encoder writes them survive a write verbatim,
      // and an added offer extends them.
      const { ol: _ol, offers: current, ...rest } = JSON.parse((await client.get(keys.request(f.id)))!);
      const spaced = JSON.stringify(current, null, 1);
      await client.set(keys.request(f.id), `{"offers":${spaced},"ol":${Buffer.byteLength(spaced)},${JSON.stringify(rest).slice(1)}`);
      const toB = offer(f.id, b.profile.id);
      ok(await store.addOffers(f.id, 0, [toB], T0 + SEC));
      expect((await client.get(keys.request(f.id)))!.startsWith(`{"offers":${spaced.slice(0, -2)}`)).toBe(true);
      expect(await stored()).toEqual([toA, toB]);

      // A changed offer is written afresh, and so are the others.
      const declined = ok(await store.closeOffer(f.id, toB.id, "declined", T0 + 2 * SEC, b.profile.id)).offer;
      expect(await stored()).toEqual([toA, declined]);
      const toC = offer(f.id, c.profile.id, { kind: "push" });
      ok(await store.addOffers(f.id, 0, [toC], T0 + 2 * SEC));
      const accepted = ok(
        await store.acceptOffer({ requestId: f.id, language: "en", offerId: toA.id, advisorId: a.profile.id, now: T0 + 3 * SEC, presenceTtlMs: TTL }, null),
      );
      expect(await stored()).toEqual(accepted.request.offers);
      expect(accepted.request.offers.map((o) => o.outcome)).toEqual(["accepted", "declined", "withdrawn"]);
      const finished = ok(await store.finishRequest(f.id, { to: "completed", now: T0 + 4 * SEC }));
      expect(await stored()).toEqual(finished.request.offers);
      expect(finished.request.offers).toEqual(accepted.request.offers);
    });
  });

  describe("keys", () => {
    it("computes Redis Cluster slots (CLUSTER KEYSLOT) and hash tags", () => {
      expect(keySlot("123456789")).toBe(12739);
      expect(keySlot("foo")).toBe(12182);
      expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
      expect(hashTagOf("foo{}{bar}")).toBe("foo{}{bar}");
      expect(hashTagOf("foo{{bar}}zap")).toBe("{bar");
      const keys = keySpace("adx:");
      expect(keys.advisor("adv_01")).toBe("adx:adv:{adv_01}");
      expect(hashTagOf(keys.request("req_01"))).toBe("req_01");
      const scopes = [1, 2, 3, 4, 5].map((s) => keys.candidates("branch", "brn_x", "fund_sales", "en", s));
      expect(scopes[2]).toBe("adx:idx:{branch:brn_x:fund_sales:en}:s3");
      expect(new Set(scopes.map(keySlot)).size).toBe(1);
      // Escaping keeps "*" (any language, the national pool) and hash-tag braces unambiguous.
      expect(keys.candidates("region", "a}b*", "fund_sales", "*", 1)).toBe("adx:idx:{region:a%007db%002a:fund_sales:*}:s1");
      expect(keys.candidates("national", "ignored", "fund_sales", "*", 1)).toBe("adx:idx:{national:*:fund_sales:*}:s1");
    });

    it("every script call touches keys of one hash tag only (its advisor's, its request's or the deadlines'), plus the generation key last when fenced; an action script its declared entities", async () => {
      const calls: Array<{ name: string; keys: string[] }> = [];
      const shaToName = new Map(Object.values(scripts()).map((s) => [s.sha, s.name]));
      const watched = spyClient(client, (method, args) => {
        if (method !== "evalSha" && method !== "eval") return;
        const name = method === "evalSha" ? shaToName.get(String(args[0])) : Object.values(scripts()).find((s) => s.source === args[0])?.name;
        calls.push({ name: name ?? "?", keys: (args[1] as { keys?: string[] })?.keys ?? [] });
      });
      const prefix = testKeyPrefix();
      const store = await openStore(watched, prefix);
      await exerciseEveryOperation(store, watched);

      // rateLimit shares the loader but belongs to the rate limiter (tests/infra/rateLimit.test.ts),
      // and the journal's scripts to the persister (tests/matching/journal.test.ts).
      const notTheStores = new Set(["rateLimit", "journalTake", "journalAck"]);
      expect(new Set(calls.map((c) => c.name))).toEqual(new Set(SCRIPT_NAMES.filter((name) => !notTheStores.has(name))));
      for (const { name, keys } of calls) {
        if (name === "checkEligibility") {
          expect(keys).toEqual([]);
          continue;
        }
        expect(keys.length, name).toBeGreaterThan(0);
        if (ACTION_SCRIPTS.has(name as never)) {
          // An action decides across entities in one step (codes.ts): its request's and advisor's
          // documents, the deadlines, the queue, the journal, then the generation.
          const space = keySpace(prefix);
          const request = expect.stringMatching(/req:\{req_/);
          if (name === "acceptOffer")
            expect(keys, name).toEqual([request, expect.stringMatching(/adv:\{adv_/), space.deadlines, space.queue, space.journal, space.generation]);
          else if (name === "resolveOffer" || name === "makeOffers") expect(keys, name).toEqual([request, space.deadlines, space.journal, space.generation]);
          else if (name === "setDeadlineIf") expect(keys, name).toEqual([request, space.deadlines]);
          else if (name === "createRequest") expect(keys, name).toEqual([request, space.deadlines, space.live, space.generation]);
          else if (name === "advanceStage") expect(keys, name).toEqual([request, space.queue, space.journal, space.generation]);
          else if (name === "reopenRequest") expect(keys, name).toEqual([request, space.deadlines, space.queue, space.journal, space.generation]);
          else expect(keys, name).toEqual([request, space.deadlines, space.queue, space.live, space.journal, space.generation]);
          continue;
        }
        if (FENCED_SCRIPTS.has(name as never)) {
          // The fence reads the generation, a key of its own: these scripts touch two slots (so the
          // store is for one Redis primary, not Cluster; see keys.ts).
          expect(keys.at(-1), name).toBe(keySpace(prefix).generation);
          keys.pop();
        }
        const tags = new Set(keys.map(hashTagOf));
        expect(tags.size, name).toBe(1);
        expect(new Set(keys.map(keySlot)).size, name).toBe(1);
        const tag = [...tags][0]!;
        if (name === "claimDueDeadlines") expect(keys[0], name).toMatch(/deadlines$/);
        else if (name === "renewLease" || name === "releaseLease") expect(keys[0], name).toMatch(/lease:\{[^}]+\}$/);
        else expect(tag, name).toMatch(/^(adv|req)_/);
      }
    });

    it("keeps every key under the prefix, and reset removes exactly that namespace (glob characters included)", async () => {
      const prefix = `${testKeyPrefix()}[*?]\\:`;
      const neighbour = testKeyPrefix();
      const store = await openStore(client, prefix);
      const other = await openStore(client, neighbour);
      await exerciseEveryOperation(store, client);
      const otherAdvisor = await online(other);

      const mine = await scanAll(`${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`);
      expect(mine.length).toBeGreaterThan(5);
      expect(mine.every((key) => key.startsWith(prefix))).toBe(true);
      await store.reset();
      expect(await scanAll(`${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`)).toEqual([]);
      expect(await other.getAdvisor(otherAdvisor.profile.id)).toEqual(otherAdvisor);
    });

    it("keeps a terminal request for an hour (EXPIRE) and a live one without TTL", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const f = facts();
      await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + SEC });
      expect(await client.ttl(keys.request(f.id))).toBe(-1);
      await store.addOffers(f.id, 0, [offer(f.id, "adv_1")], T0);
      const ended = await store.finishRequest(f.id, { to: "expired", now: T0 + SEC });
      const ttl = await client.ttl(keys.request(f.id));
      expect(ttl).toBeGreaterThan(3590);
      expect(ttl).toBeLessThanOrEqual(3600);
      // A later write (a late decline) keeps the TTL.
      expect(await store.closeOffer(f.id, "nope", "declined", T0 + 2 * SEC)).toMatchObject({ ok: false });
      expect(await client.ttl(keys.request(f.id))).toBeGreaterThan(3590);

      if (!ended.ok) throw new Error("not ended");
      await store.restoreRequest({ ...ended.request, status: "pending", queueScore: null }, null);
      expect(await client.ttl(keys.request(f.id))).toBe(-1);
      await store.restoreRequest(ended.request, null);
      expect(await client.ttl(keys.request(f.id))).toBeGreaterThan(3590);
    });
  });

  describe("the journal in the action's own step", () => {
    it("a journaling store appends the accept's draft in the accept's script: the entry is the accept's materialization", async () => {
      const prefix = testKeyPrefix();
      const store = createRedisMatchingStore(client, { prefix, journal: true });
      opened.push(store);
      await store.setGeneration("test");
      const journal = await createRedisJournal(client, { prefix });
      const [a, b] = [await online(store), await online(store)];
      const f = facts();
      await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + SEC });
      const [toA, toB] = [offer(f.id, a.profile.id, { kind: "broadcast" }), offer(f.id, b.profile.id, { kind: "broadcast" })];
      await store.addOffers(f.id, 0, [toA, toB], T0);
      const context: AcceptContext = {
        kind: "accept",
        eventIds: ["evt_one", "evt_two"],
        at: T0 + SEC,
        stages: ["branch", "region"],
        demand: { requiredLicence: "fund_sales", queueDepth: 2, surge: false },
      };

      const refused = await store.acceptOffer(
        { requestId: f.id, language: f.language, offerId: toA.id, advisorId: b.profile.id, now: T0 + SEC, presenceTtlMs: TTL },
        context,
      );
      expect(refused).toEqual({ ok: false, reason: "NOT_YOURS" });
      expect(await journal.lag(T0)).toMatchObject({ entries: 0 });

      const result = await store.acceptOffer(
        { requestId: f.id, language: f.language, offerId: toA.id, advisorId: a.profile.id, now: T0 + SEC, presenceTtlMs: TTL },
        context,
      );
      if (!result.ok) throw new Error(`refused: ${result.reason}`);
      expect(result.journalId).toMatch(/^\d+-\d+$/);
      const [delivered, ...more] = await journal.take("test-consumer", 10, 60_000);
      expect(more).toEqual([]);
      expect(delivered!.id).toBe(result.journalId);
      const expected = materialize({ context, request: result.request, offer: result.offer, superseded: result.superseded });
      expect(delivered!.entry).toEqual(expected);
      // More events than ids: the extra ones derive from the first id, the same on every read.
      expect(expected.events.map((e) => [e.type, e.id])).toEqual([
        ["offer.withdrawn", "evt_one"],
        ["offer.accepted", "evt_two"],
        ["request.assigned", "evt_one_2"],
      ]);
      // A repeat is a duplicate and journals nothing more.
      const again = await store.acceptOffer(
        { requestId: f.id, language: f.language, offerId: toA.id, advisorId: a.profile.id, now: T0 + 2 * SEC, presenceTtlMs: TTL },
        context,
      );
      expect(again).toMatchObject({ ok: true, duplicate: true, journalId: null });
      expect(await journal.lag(T0)).toMatchObject({ entries: 1 });
      await journal.close();
    });
  });

  describe("a grab's losers", () => {
    const accept = (store: MatchingStore, f: RequestFacts, offerId: string, advisorId: string, now: number) =>
      store.acceptOffer({ requestId: f.id, language: f.language, offerId, advisorId, now, presenceTtlMs: TTL }, null);

    it("are answered from the request's lost offers, in the full path's order, which expire with the request; a restore drops them", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const [a, b, c] = [await online(store), await online(store), await online(store)];
      const f = facts();
      await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + SEC });
      const offers = [a, b, c].map((advisor) => offer(f.id, advisor.profile.id, { kind: "broadcast" }));
      await store.addOffers(f.id, 0, offers, T0);
      const [toA, toB, toC] = offers as [OfferState, OfferState, OfferState];
      const open = await store.getRequest(f.id);

      expect(await accept(store, f, toA.id, a.profile.id, T0 + SEC)).toMatchObject({ ok: true, duplicate: false });
      const lost = keys.request(f.id) + ":lost";
      expect(await client.hGetAll(lost)).toEqual({ [toB.id]: b.profile.id, [toC.id]: c.profile.id });
      // What the full path answers, which the document gives too.
      expect(await accept(store, f, toB.id, b.profile.id, T0 + SEC)).toEqual({ ok: false, reason: "ALREADY_TAKEN" });
      expect(await accept(store, f, toB.id, c.profile.id, T0 + SEC)).toEqual({ ok: false, reason: "NOT_YOURS" });
      expect(await accept(store, f, toA.id, a.profile.id, T0 + 2 * SEC)).toMatchObject({ ok: true, duplicate: true });
      expect(await accept(store, f, "off_unknown", b.profile.id, T0 + SEC)).toEqual({ ok: false, reason: "NOT_FOUND" });
      expect(await client.ttl(lost)).toBe(-1);

      // The record says the grab never happened (the accept was lost with Redis's data before it was
      // persisted): the restored document is the truth, and B's offer is open again.
      await store.restoreRequest(open!, T0 + 30 * SEC);
      expect(await client.exists(lost)).toBe(0);
      expect(await accept(store, f, toB.id, b.profile.id, T0 + 3 * SEC)).toMatchObject({ ok: true, duplicate: false });
      expect(await client.hGetAll(lost)).toEqual({ [toA.id]: a.profile.id, [toC.id]: c.profile.id });

      // Ended: the lost offers go with the document.
      const ended = await store.endRequest({ requestId: f.id, to: "completed", now: T0 + 4 * SEC }, null);
      expect(ended).toMatchObject({ ok: true });
      expect(await client.ttl(lost)).toBeGreaterThan(3590);
      expect(await accept(store, f, toC.id, c.profile.id, T0 + 5 * SEC)).toEqual({ ok: false, reason: "ALREADY_TAKEN" });
      await client.del(keys.request(f.id));
      expect(await accept(store, f, toC.id, c.profile.id, T0 + 5 * SEC)).toEqual({ ok: false, reason: "NOT_FOUND" });
    });
  });

  it("getRequest answers the current document, shared frozen from a stored text's second read on", async () => {
    const store = await openStore(client);
    const f = facts();
    await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + 60 * SEC });
    const once = await store.getRequest(f.id);
    const first = await store.getRequest(f.id);
    expect(first).toEqual(once);
    expect(await store.getRequest(f.id)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    await store.addOffers(f.id, 0, [offer(f.id, "adv_1")], T0 + SEC);
    const second = await store.getRequest(f.id);
    expect(second).not.toBe(first);
    expect(second).toMatchObject({ status: "offered", rev: first!.rev + 1 });
    expect(first).toMatchObject({ status: "pending", offers: [] });
  });

  describe("a broadcast's judged candidates", () => {
    it("an advisor whose stored text is the judged one is offered with the judged snapshot, unchecked; any other is checked in Lua", async () => {
      const store = await openStore(client);
      const [unchanged, rated, pushed] = [await online(store), await online(store), await online(store)];
      const request = (await store.createRequest(facts(), { stageIndex: 0, now: T0, deadline: T0 + 60 * SEC })).request;
      const now = T0 + SEC;
      const read = await store.findCandidates({ pool: "branch", poolId: "brn_1", licence: "fund_sales", language: "en", minRisk: 3, limit: 50 });
      // A snapshot no check would give (checkedAt 1): it shows whether the script took it or checked.
      const marked = (state: AdvisorState | null) => {
        const result = checkEligibility({
          advisor: state!.profile,
          supply: state!.supply,
          request: request.facts,
          now,
          presenceTtlMs: TTL,
          capacityRule: "broadcast",
        });
        if (!result.eligible) throw new Error("fixture not eligible");
        return { state: state!, eligibility: { ...result.snapshot, checkedAt: 1 } };
      };
      const judgedOn = (advisorId: string) => marked(read.find((state) => state.profile.id === advisorId) ?? null);
      await store.recordRating(rated.profile.id, 5); // still eligible, but no longer the text judged
      const round = (kind: "push" | "broadcast", candidates: Array<{ advisorId: string; judged: ReturnType<typeof marked> }>) =>
        store.makeOffers(
          {
            requestId: request.facts.id,
            stageIndex: 0,
            kind,
            candidates: candidates.map((c) => ({ ...c, offerId: `off_${uniqueTag()}` })),
            count: 5,
            now,
            expiresAt: now + 30 * SEC,
            presenceTtlMs: TTL,
            language: "en",
          },
          null,
        );

      const broadcast = await round("broadcast", [
        { advisorId: unchanged.profile.id, judged: judgedOn(unchanged.profile.id) },
        { advisorId: rated.profile.id, judged: judgedOn(rated.profile.id) },
      ]);
      if (!broadcast.ok) throw new Error(broadcast.reason);
      expect(broadcast.offers.map((o) => [o.offer.advisorId, o.eligibility.checkedAt])).toEqual([
        [unchanged.profile.id, 1],
        [rated.profile.id, now],
      ]);
      // A state this store did not decode from a stored text (getAdvisor's), and any push: checked.
      const fresh = await round("broadcast", [{ advisorId: pushed.profile.id, judged: marked(await store.getAdvisor(pushed.profile.id)) }]);
      expect(fresh.ok && fresh.offers.map((o) => o.eligibility.checkedAt)).toEqual([now]);
      const other = (await store.createRequest(facts(), { stageIndex: 0, now: T0, deadline: T0 + 60 * SEC })).request;
      const pushOther = await store.makeOffers(
        {
          requestId: other.facts.id,
          stageIndex: 0,
          kind: "push",
          candidates: [{ advisorId: pushed.profile.id, offerId: `off_${uniqueTag()}`, judged: judgedOn(pushed.profile.id) }],
          count: 1,
          now,
          expiresAt: now + 30 * SEC,
          presenceTtlMs: TTL,
          language: "en",
        },
        null,
      );
      expect(pushOther.ok && pushOther.offers.map((o) => o.eligibility.checkedAt)).toEqual([now]);
    });
  });

  describe("candidate index", () => {
    it("reads scope sets minRisk..5 and skips stale index entries without losing later candidates", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const branchId = `brn_${uniqueTag()}`;
      const a = await online(store, { id: `adv_${uniqueTag()}_a`, branchId, suitabilityMaxRisk: 3 });
      const b = await online(store, { id: `adv_${uniqueTag()}_b`, branchId, suitabilityMaxRisk: 5 });
      // Stale entries: an advisor who no longer exists, and one who went away, both at the head.
      const gone = await online(store, { branchId, suitabilityMaxRisk: 4 });
      await client.zAdd(keys.candidates("branch", branchId, "fund_sales", "*", 3), [
        { score: -2, value: "adv_ghost" },
        { score: -1, value: gone.profile.id },
      ]);
      await client.set(
        keys.advisor(gone.profile.id),
        JSON.stringify({ ...gone, profile: { ...gone.profile, suitabilityMaxRisk: 4 }, supply: { ...gone.supply, presence: "away" } }),
      );

      const found = await store.findCandidates({ pool: "branch", poolId: branchId, licence: "fund_sales", language: null, minRisk: 3, limit: 2 });
      expect(found.map((s) => s.profile.id)).toEqual([a.profile.id, b.profile.id].sort());
      const high = await store.findCandidates({ pool: "branch", poolId: branchId, licence: "fund_sales", language: "EN", minRisk: 4, limit: 10 });
      expect(high.map((s) => s.profile.id)).toEqual([b.profile.id]);
    });

    it("merges the scope lists in (lastAssignedAt, id) byte order, however unevenly filled and tied", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const keys = keySpace(prefix);
      const branchId = `brn_${uniqueTag()}`;
      const tag = uniqueTag();
      // 60 in scope 5, a few in each other: the big list is read again after its first share, the
      // small ones run dry. Ids differ in case and punctuation, which a locale's collation orders
      // differently from bytes; scores tie in groups of seven.
      const advisors: Array<{ id: string; score: number; risk: number }> = [];
      for (let i = 0; i < 75; i++) {
        const id = `adv_${tag}${["_a", "_B", "-c", "_D", "a", "Z"][i % 6]}${String(i).padStart(3, "0")}`;
        advisors.push({ id, score: (i * 37) % 7, risk: i < 60 ? 5 : 1 + (i % 4) });
      }
      for (const advisor of advisors) {
        await online(store, { id: advisor.id, branchId, suitabilityMaxRisk: advisor.risk });
        const scope = advisor.risk;
        await client.zAdd(keys.candidates("branch", branchId, "fund_sales", "*", scope), { score: advisor.score, value: advisor.id }, { XX: true });
      }
      const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
      const expected = [...advisors].sort((x, y) => x.score - y.score || byteOrder(x.id, y.id)).map((a) => a.id);
      const found = await store.findCandidates({ pool: "branch", poolId: branchId, licence: "fund_sales", language: null, minRisk: 1, limit: 50 });
      expect(found.map((s) => s.profile.id)).toEqual(expected.slice(0, 50));
      const all = await store.findCandidates({ pool: "branch", poolId: branchId, licence: "fund_sales", language: null, minRisk: 1, limit: 500 });
      expect(all.map((s) => s.profile.id)).toEqual(expected);
    });

    it("reads a list that runs dry again in the round trip that reads the documents merged so far", async () => {
      const prefix = testKeyPrefix();
      // The store's client, logging each command it sends and each reply, in order.
      const log: string[] = [];
      const logged = new Proxy(client, {
        get(target, property) {
          const value = Reflect.get(target, property);
          if (typeof value !== "function" || property !== "sendCommand") return value;
          return async (...args: unknown[]) => {
            const command = String((args[0] as unknown[])[0]);
            if (command !== "ZRANGE" && command !== "MGET") return await value.apply(target, args);
            log.push("send");
            try {
              return await value.apply(target, args);
            } finally {
              log.push("reply");
            }
          };
        },
      });
      const store = await openStore(logged, prefix);
      const branchId = `brn_${uniqueTag()}`;
      // One list of 40 and four empty ones: limit 32 reads 16 heads a list, so the big one runs dry.
      for (let i = 0; i < 40; i++) await online(store, { branchId, suitabilityMaxRisk: 5 });
      log.length = 0;
      const found = await store.findCandidates({ pool: "branch", poolId: branchId, licence: "fund_sales", language: null, minRisk: 1, limit: 32 });
      expect(found).toHaveLength(32);
      // A round trip is a run of sends: the heads; the first 16 documents with the next heads; the rest.
      const roundTrips = log.filter((entry, i) => entry === "send" && log[i - 1] !== "send").length;
      expect(roundTrips).toBe(3);
    });

    it("a lookup answers each advisor's current document, never one decoded for an earlier lookup, and shares it frozen", async () => {
      const prefix = testKeyPrefix();
      const store = await openStore(client, prefix);
      const branchId = `brn_${uniqueTag()}`;
      const a = await online(store, { branchId });
      const query = { pool: "branch", poolId: branchId, licence: "fund_sales", language: null, minRisk: 1, limit: 5 } as const;
      const [first] = await store.findCandidates(query);
      const [again] = await store.findCandidates(query);
      // Unchanged text: the same decoded state, which nobody can change under the other readers.
      expect(again).toBe(first);
      expect(() => {
        (again!.stats as { ratingSum: number }).ratingSum = 99;
      }).toThrow(TypeError);
      await store.recordRating(a.profile.id, 4);
      const [rated] = await store.findCandidates(query);
      expect(rated).not.toBe(first);
      expect(rated!.stats).toMatchObject({ ratingSum: 4, ratingCount: 1 });
      expect(first!.stats).toMatchObject({ ratingSum: 0, ratingCount: 0 });
      // A write by hand (another process's script) is seen too: the whole text is compared.
      await client.set(keySpace(prefix).advisor(a.profile.id), JSON.stringify({ ...rated, stats: { ...rated!.stats, incentive: 0.5 } }));
      expect((await store.findCandidates(query))[0]!.stats.incentive).toBe(0.5);
    });

    it("converges to exactly the advisors' current states after concurrent writes over many connections", async () => {
      const prefix = testKeyPrefix();
      const connections = await Promise.all(Array.from({ length: 8 }, () => connect()));
      const stores = await Promise.all(connections.map((c) => openStore(c, prefix)));
      const keys = keySpace(prefix);
      const branchId = `brn_${uniqueTag()}`;
      const advisors = await Promise.all(
        Array.from({ length: 4 }, (_, i) => online(stores[0]!, { branchId, maxConcurrent: 2, languages: i % 2 ? ["en", "FR"] : ["de"] })),
      );

      const rng = fc.sample(fc.array(fc.tuple(int(0, 3), int(0, 5), int(0, 7)), { minLength: 400, maxLength: 400 }), { numRuns: 1, seed: 42 })[0]!;
      await Promise.all(
        rng.map(async ([who, what, via], i) => {
          const store = stores[via]!;
          const id = advisors[who]!.profile.id;
          const now = T0 + i;
          if (what === 0) await store.setPresence(id, "available", now);
          if (what === 1) await store.setPresence(id, "away", now);
          if (what === 2) await store.takeAssignment(id, facts({ id: `req_${i % 3}` }), `off_${i}`, now, TTL);
          if (what === 3) await store.releaseAssignment(id, `req_${i % 3}`);
          if (what === 4) await store.upsertAdvisor({ ...advisors[who]!.profile, suitabilityMaxRisk: 1 + (i % 5) }, now);
          if (what === 5) await store.holdPushSlot(id, facts(), `off_${i}`, now, TTL);
        }),
      );

      const indexKeys = (await scanAll(`${prefix}idx:*`)).sort();
      const actual = new Map<string, Map<string, number>>();
      for (const key of indexKeys) {
        for (const { value, score } of await client.zRangeWithScores(key, 0, -1)) {
          if (!actual.has(value)) actual.set(value, new Map());
          actual.get(value)!.set(key, score);
        }
      }
      const presence = new Map<string, Map<string, number>>();
      for (const key of [keys.heartbeats, keys.available]) {
        for (const { value, score } of await client.zRangeWithScores(key, 0, -1)) {
          if (!presence.has(value)) presence.set(value, new Map());
          presence.get(value)!.set(key, score);
        }
      }
      for (const a of advisors) {
        const state = await stores[0]!.getAdvisor(a.profile.id);
        expect(actual.get(a.profile.id) ?? new Map(), a.profile.id).toEqual(candidateEntries(keys, state));
        expect(presence.get(a.profile.id) ?? new Map(), a.profile.id).toEqual(presenceEntries(keys, state));
      }
    });
  });

  describe("races between separate connections", () => {
    it("200 concurrent claims of 200 advisors' broadcast offers on one request over 10 connections: exactly one wins", async () => {
      const prefix = testKeyPrefix();
      const stores = await Promise.all((await Promise.all(Array.from({ length: 10 }, () => connect()))).map((c) => openStore(c, prefix)));
      const f = facts();
      await stores[0]!.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + 60 * SEC });
      const offers = Array.from({ length: 200 }, (_, i) => offer(f.id, `adv_${i}_${uniqueTag()}`));
      expect((await stores[0]!.addOffers(f.id, 0, offers, T0)).ok).toBe(true);

      const results = await Promise.all(offers.map((o, i) => stores[i % stores.length]!.claimOffer(f.id, o.id, o.advisorId, T0 + SEC)));

      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok && r.reason === "ALREADY_TAKEN")).toHaveLength(199);
      const winner = offers[results.findIndex((r) => r.ok)]!;
      const final = await stores[0]!.getRequest(f.id);
      expect(final).toMatchObject({ status: "assigned", assignedAdvisorId: winner.advisorId });
      expect(final!.offers.filter((o) => o.outcome === "accepted").map((o) => o.id)).toEqual([winner.id]);
      expect(final!.offers.filter((o) => o.outcome === "lost_race")).toHaveLength(199);
    });

    it("50 concurrent takeAssignment calls for one advisor (maxConcurrent 3) over 8 connections: exactly 3 succeed", async () => {
      const prefix = testKeyPrefix();
      const stores = await Promise.all((await Promise.all(Array.from({ length: 8 }, () => connect()))).map((c) => openStore(c, prefix)));
      const a = await online(stores[0]!, { maxConcurrent: 3 });
      const requests = Array.from({ length: 50 }, () => facts());

      const results = await Promise.all(requests.map((r, i) => stores[i % stores.length]!.takeAssignment(a.profile.id, r, `off_${i}`, T0 + SEC, TTL)));

      expect(results.filter((r) => r.ok)).toHaveLength(3);
      expect(results.filter((r) => !r.ok && r.reason === "CAPACITY")).toHaveLength(47);
      const state = await stores[0]!.getAdvisor(a.profile.id);
      expect(state?.supply.active).toBe(3);
      expect(new Set(state?.assignments)).toEqual(new Set(requests.filter((_, i) => results[i]!.ok).map((r) => r.id)));
      // Full: gone from the index.
      expect(await stores[0]!.findCandidates({ pool: "branch", poolId: "brn_1", licence: "fund_sales", language: null, minRisk: 1, limit: 10 })).toEqual([]);
    });

    it("concurrent sweepers over 8 connections never lease the same deadline twice", async () => {
      const prefix = testKeyPrefix();
      const stores = await Promise.all((await Promise.all(Array.from({ length: 8 }, () => connect()))).map((c) => openStore(c, prefix)));
      const ids = Array.from({ length: 100 }, (_, i) => `req_${String(i).padStart(3, "0")}`);
      for (const id of ids) await stores[0]!.setDeadline(id, T0 - 1);
      const batches = await Promise.all(Array.from({ length: 32 }, (_, i) => stores[i % 8]!.claimDueDeadlines(T0, 60 * SEC, 5)));
      const claimed = batches.flat();
      expect(claimed).toHaveLength(100);
      expect(new Set(claimed).size).toBe(100);
    });
  });

  // ---- helpers that need the live client ----

  async function scanAll(match: string): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: match, COUNT: 500 })) found.push(...batch.map(String));
    return found;
  }
});

/** A client whose method calls are reported (name, arguments) before being forwarded. */
function spyClient(target: RedisClient, onCall: (method: string, args: unknown[]) => void): RedisClient {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        onCall(String(property), args);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/** Calls every store operation at least once, so every script runs. */
async function exerciseEveryOperation(store: MatchingStore, client: RedisClient): Promise<void> {
  const a = await online(store, { maxConcurrent: 3 });
  const id = a.profile.id;
  const f = facts();
  await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + SEC });
  await store.addOffers(f.id, 0, [offer(f.id, id, { id: "off_push", kind: "push" }), offer(f.id, "adv_other", { id: "off_b" })], T0);
  await store.holdPushSlot(id, f, "off_push", T0, TTL);
  await store.checkBroadcastEligibility(id, facts(), T0, TTL);
  await store.takeAssignment(id, f, "off_push", T0 + 1, TTL);
  await store.claimOffer(f.id, "off_push", id, T0 + 1);
  await store.reopenRequest(f.id, { advisorId: id, now: T0 + 2 });
  await store.releaseAssignment(id, f.id);
  await store.addOffers(f.id, 0, [offer(f.id, id, { id: "off_again", kind: "broadcast" })], T0 + 3);
  await store.acceptOffer({ requestId: f.id, language: f.language, offerId: "off_again", advisorId: id, now: T0 + 4, presenceTtlMs: TTL }, null);
  await store.reopenRequest(f.id, { advisorId: id, now: T0 + 5 });
  await store.releaseAssignment(id, f.id);
  await store.holdPushSlot(id, facts(), "off_2", T0, TTL);
  await store.releasePushHold(id, "off_2");
  await store.recordAnswer(id, { accepted: true, latencyMs: 900 });
  await store.recordRating(id, 5);
  await store.setIncentive(id, 0.5);
  await store.restoreAdvisor((await store.getAdvisor(id))!);
  await store.findCandidates({ pool: "national", poolId: "*", licence: "fund_sales", language: "en", minRisk: 2, limit: 5 });
  await store.getAdvisors([id, "adv_missing"]);

  const g = facts();
  await store.createRequest(g, { stageIndex: 0, now: T0, deadline: T0 + SEC });
  await store.addOffers(g.id, 0, [offer(g.id, id, { id: "off_g" })], T0);
  await store.closeOffer(g.id, "off_g", "declined", T0 + 1, id);
  await store.advanceStage(g.id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + 2, queueScore: 3 });
  await store.listQueue(10);
  await store.claimDueDeadlines(T0 + SEC, SEC, 10);
  await store.setDeadline(g.id, T0 + 5 * SEC);
  await store.setDeadlineIf(g.id, T0 + 6 * SEC, 0);
  await store.getDeadline(g.id);
  await store.clearDeadline(f.id);
  const h = facts();
  await store.createRequest(h, { stageIndex: 0, now: T0, deadline: T0 + SEC });
  await store.addOffers(h.id, 0, [offer(h.id, id, { id: "off_h" })], T0);
  await store.makeOffers(
    {
      requestId: h.id,
      stageIndex: 0,
      kind: "push",
      candidates: [{ advisorId: id, offerId: "off_round" }],
      count: 1,
      now: T0,
      expiresAt: T0 + SEC,
      presenceTtlMs: TTL,
      language: h.language,
    },
    null,
  );
  await store.resolveOffer({ requestId: h.id, offerId: "off_h", outcome: "declined", now: T0 + 1, advisorId: id, deadline: T0 + 1 }, null);
  await store.endRequest({ requestId: h.id, to: "cancelled", now: T0 + 1 }, null);
  const ended = await store.finishRequest(g.id, { to: "expired", now: T0 + 3, callbackRequested: true });
  await store.restoreRequest((ended as { request: LiveRequest }).request, null);
  await store.listLiveRequestIds();
  await checkEligibilityInLua(client, {
    advisor: a.profile,
    supply: a.supply,
    request: f,
    now: T0,
    presenceTtlMs: TTL,
    capacityRule: "broadcast",
  });
  await store.findLapsedAdvisors(T0 + 60 * SEC, 10);
  await store.countAvailable(T0);
  // Not due (the heartbeat is at T0): runs the script but keeps the advisor indexed for the key checks.
  await store.expirePresence(id, T0);
  await store.acquireLease("exercise", "t1", 60_000);
  await store.renewLease("exercise", "t1", 60_000);
  await store.releaseLease("exercise", "t1");
}

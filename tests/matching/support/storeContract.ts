/**
 * The MatchingStore contract: one suite, run against every adapter (memory, Redis), so that they keep
 * identical semantics. The port's TSDoc (matching/store/port.ts) is the spec; each test names the
 * clause it checks.
 *
 * Requirements on `open()`: it returns a store whose namespace no other running test writes to (for
 * Redis, e.g. a random key prefix), because listQueue, listLiveRequestIds, claimDueDeadlines and
 * reset are namespace-wide. Every id is still unique per test, so the suite can share one Redis
 * server with other suites. Each test opens its own store and resets and closes it afterwards.
 *
 * Times are explicit (`now` values around T0), never the wall clock.
 *
 * Each test starts with a generation set, as a server's store has after its start's rebuild, so
 * fenced operations run (see "the live-state fence" in port.ts); tests that reset() set it again
 * before writing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkEligibility, type CapacityRule } from "../../../matching/domain/eligibility.ts";
import { EMPTY_STATS, updateResponsiveness, type OfferAnswer } from "../../../matching/domain/ranking.ts";
import type { AdvisorProfile, LicenceFact, RequestFacts } from "../../../matching/domain/types.ts";
import {
  LiveStateUnavailableError,
  type AdvisorState,
  type CandidateQuery,
  type LiveRequest,
  type MatchingStore,
  type OfferState,
} from "../../../matching/store/port.ts";

const T0 = Date.UTC(2026, 0, 5, 9);
const SEC = 1_000;
const MIN = 60_000;
const DAY = 86_400_000;
/** Presence TTL passed to the capacity operations: a heartbeat this old counts as offline. */
const TTL = 45 * SEC;
/** Default offer lifetime in these tests. */
const OFFER_TTL = 20 * SEC;

const uid = (prefix: string): string => `${prefix}_${Math.random().toString(36).slice(2)}`;
/** The generation every test starts with (a rebuilt live state). */
const GENERATION = "contract-generation";
/** Code-unit order, as the port's tie-breaks use. */
const sorted = (ids: readonly string[]): string[] => [...ids].sort();

type Ok<T> = Extract<T, { ok: true }>;

/** Asserts an outcome is ok and narrows it, printing the refusal when it is not. */
function ok<T extends { ok: boolean }>(result: T): Ok<T> {
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result as Ok<T>;
}

function expectRefused(result: { ok: boolean }, reason: string): void {
  expect(result).toMatchObject({ ok: false, reason });
}

/** The supply invariants the port promises for every advisor state it hands out. */
function expectSupplyInvariants(state: AdvisorState | null): void {
  expect(state).not.toBeNull();
  if (!state) return;
  expect(state.supply.active).toBe(state.assignments.length);
  expect(state.supply.pendingPush).toBe(state.pushHolds.length);
  expect(new Set(state.assignments).size).toBe(state.assignments.length);
  expect(new Set(state.pushHolds).size).toBe(state.pushHolds.length);
}

/** Per-test names, so pools and languages never overlap with another test's advisors. */
interface World {
  branchId: string;
  region: string;
  /** A language nobody else speaks, to scope national queries to this test. */
  language: string;
}

function licence(overrides: Partial<LicenceFact> = {}): LicenceFact {
  return {
    id: uid("lic"),
    kind: "fund_sales",
    number: "FS-0001",
    issuer: "FSA",
    validFrom: T0 - 365 * DAY,
    validUntil: T0 + 365 * DAY,
    status: "active",
    ...overrides,
  };
}

function offer(requestId: string, advisorId: string, overrides: Partial<OfferState> = {}): OfferState {
  return {
    id: uid("off"),
    requestId,
    advisorId,
    kind: "push",
    stageIndex: 0,
    sentAt: T0,
    expiresAt: T0 + OFFER_TTL,
    outcome: null,
    respondedAt: null,
    ...overrides,
  };
}

export function storeContract(name: string, open: () => Promise<MatchingStore>): void {
  describe(name, () => {
    let store: MatchingStore;
    let w: World;

    beforeEach(async () => {
      store = await open();
      await store.setGeneration(GENERATION);
      w = { branchId: uid("br"), region: uid("rg"), language: uid("lang") };
    });

    afterEach(async () => {
      try {
        await store.reset();
      } finally {
        await store.close();
      }
    });

    // ---- fixtures bound to the current store and world ----

    function profile(overrides: Partial<AdvisorProfile> = {}): AdvisorProfile {
      return {
        id: uid("adv"),
        branchId: w.branchId,
        region: w.region,
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
        id: uid("req"),
        clientId: uid("cli"),
        branchId: w.branchId,
        region: w.region,
        requiredLicence: "fund_sales",
        riskLevel: 3,
        language: "en",
        priority: 0,
        dedicatedAdvisorId: null,
        mode: "dispatch",
        createdAt: T0,
        ...overrides,
      };
    }

    function query(overrides: Partial<CandidateQuery> = {}): CandidateQuery {
      return { pool: "branch", poolId: w.branchId, licence: "fund_sales", language: null, minRisk: 1, limit: 50, ...overrides };
    }

    async function candidateIds(overrides: Partial<CandidateQuery> = {}): Promise<string[]> {
      return (await store.findCandidates(query(overrides))).map((advisor) => advisor.profile.id);
    }

    /** A registered advisor who is available with a fresh heartbeat at `at`. */
    async function online(overrides: Partial<AdvisorProfile> = {}, at = T0): Promise<AdvisorState> {
      const p = profile(overrides);
      await store.upsertAdvisor(p, at);
      return ok(await store.setPresence(p.id, "available", at)).advisor;
    }

    async function newRequest(overrides: Partial<RequestFacts> = {}, stageIndex = 0): Promise<LiveRequest> {
      return (await store.createRequest(facts(overrides), { stageIndex, now: T0, deadline: T0 + MIN })).request;
    }

    /** Records one open offer per advisor (request side only: the advisors need not be registered). */
    async function offerTo(requestId: string, advisorIds: readonly string[], overrides: Partial<OfferState> = {}, now = T0): Promise<OfferState[]> {
      const stageIndex = overrides.stageIndex ?? 0;
      const offers = advisorIds.map((advisorId) => offer(requestId, advisorId, { stageIndex, ...overrides }));
      ok(await store.addOffers(requestId, stageIndex, offers, now));
      return offers;
    }

    /** A new request broadcast to `advisorId` alone, who accepts it at T0 + 1 s: its id. */
    async function assignedTo(advisorId: string): Promise<string> {
      const id = (await newRequest()).facts.id;
      const [o] = await offerTo(id, [advisorId], { kind: "broadcast" });
      ok(await store.acceptOffer({ requestId: id, language: "en", offerId: o!.id, advisorId, now: T0 + SEC, presenceTtlMs: TTL }, null));
      return id;
    }

    /** What checkEligibility says for the advisor's current state: the snapshot the store must return. */
    function expectedSnapshot(state: AdvisorState, request: RequestFacts, now: number, capacityRule: CapacityRule) {
      const result = checkEligibility({ advisor: state.profile, supply: state.supply, request, now, presenceTtlMs: TTL, capacityRule });
      if (!result.eligible) throw new Error(`fixture is not eligible: ${result.reason} ${result.detail}`);
      return result.snapshot;
    }

    async function advisorOf(advisorId: string): Promise<AdvisorState> {
      const state = await store.getAdvisor(advisorId);
      expectSupplyInvariants(state);
      return state!;
    }

    async function requestOf(requestId: string): Promise<LiveRequest> {
      const request = await store.getRequest(requestId);
      expect(request).not.toBeNull();
      return request!;
    }

    // ==== supply ================================================================================

    describe("advisors", () => {
      it("upsertAdvisor creates an offline advisor with empty stats, no heartbeat and no holds", async () => {
        const p = profile();
        const expected: AdvisorState = {
          profile: p,
          supply: { presence: "offline", heartbeatAt: 0, active: 0, pendingPush: 0 },
          stats: { ...EMPTY_STATS },
          assignments: [],
          pushHolds: [],
        };
        expect(await store.upsertAdvisor(p, T0)).toEqual(expected);
        expect(await store.getAdvisor(p.id)).toEqual(expected);
      });

      it("upsertAdvisor replaces the profile and keeps presence, stats, assignments and holds", async () => {
        const a = await online({ maxConcurrent: 3 });
        await store.recordRating(a.profile.id, 4);
        const assigned = facts();
        ok(await store.takeAssignment(a.profile.id, assigned, uid("off"), T0 + SEC, TTL));
        const held = uid("off");
        ok(await store.holdPushSlot(a.profile.id, facts(), held, T0 + 2 * SEC, TTL));

        const edited: AdvisorProfile = { ...a.profile, languages: ["en", "de"], maxConcurrent: 4, suitabilityMaxRisk: 2 };
        const after = await store.upsertAdvisor(edited, T0 + 3 * SEC);

        expect(after.profile).toEqual(edited);
        expect(after.supply).toEqual({ presence: "available", heartbeatAt: T0, active: 1, pendingPush: 1 });
        expect(after.stats).toMatchObject({ ratingSum: 4, ratingCount: 1, lastAssignedAt: T0 + SEC });
        expect(after.assignments).toEqual([assigned.id]);
        expect(after.pushHolds).toEqual([held]);
        expect(await advisorOf(a.profile.id)).toEqual(after);
      });

      it("upsertAdvisor is idempotent", async () => {
        const p = profile();
        const first = await store.upsertAdvisor(p, T0);
        const second = await store.upsertAdvisor(p, T0 + SEC);
        expect(second).toEqual(first);
        expect(await store.getAdvisor(p.id)).toEqual(first);
      });

      it("setPresence sets presence and records the heartbeat at now", async () => {
        const p = profile();
        await store.upsertAdvisor(p, T0);
        const available = ok(await store.setPresence(p.id, "available", T0 + 5 * SEC));
        expect(available.advisor.supply).toEqual({ presence: "available", heartbeatAt: T0 + 5 * SEC, active: 0, pendingPush: 0 });
        const away = ok(await store.setPresence(p.id, "away", T0 + 9 * SEC));
        expect(away.advisor.supply).toMatchObject({ presence: "away", heartbeatAt: T0 + 9 * SEC });
        expect((await advisorOf(p.id)).supply).toEqual(away.advisor.supply);
      });

      it("setPresence with onlyIfNewer applies only over an older heartbeat, else answers ok with the advisor as stored", async () => {
        const p = profile();
        await store.upsertAdvisor(p, T0);
        // Over heartbeatAt 0 (restored, never heard from): applied.
        const replayed = ok(await store.setPresence(p.id, "available", T0 + 5 * SEC, { onlyIfNewer: true }));
        expect(replayed.advisor.supply).toMatchObject({ presence: "available", heartbeatAt: T0 + 5 * SEC });
        expect(await candidateIds()).toEqual([p.id]);
        // An older or equal report changes nothing.
        for (const at of [T0 + 4 * SEC, T0 + 5 * SEC]) {
          const kept = ok(await store.setPresence(p.id, "away", at, { onlyIfNewer: true }));
          expect(kept.advisor.supply).toMatchObject({ presence: "available", heartbeatAt: T0 + 5 * SEC });
        }
        expect((await advisorOf(p.id)).supply).toMatchObject({ presence: "available", heartbeatAt: T0 + 5 * SEC });
        // A newer one applies.
        ok(await store.setPresence(p.id, "away", T0 + 6 * SEC, { onlyIfNewer: true }));
        expect((await advisorOf(p.id)).supply).toMatchObject({ presence: "away", heartbeatAt: T0 + 6 * SEC });
        expect(await store.setPresence(uid("adv"), "available", T0, { onlyIfNewer: true })).toEqual({ ok: false, reason: "UNKNOWN_ADVISOR" });
      });

      it("setPresence answers the presence before the call: a transition differs from it, a heartbeat or an unapplied replay does not", async () => {
        const p = profile();
        await store.upsertAdvisor(p, T0);
        const seen: Array<[string, string]> = [];
        const step = async (presence: "available" | "away" | "offline", at: number, options?: { onlyIfNewer: boolean }) => {
          const r = ok(await store.setPresence(p.id, presence, at, options));
          seen.push([r.previous, r.advisor.supply.presence]);
        };
        await step("available", T0 + SEC); // offline -> available: a transition
        await step("available", T0 + 2 * SEC); // heartbeat: previous available
        await step("away", T0 + 3 * SEC); // available -> away
        await step("available", T0 + 2 * SEC, { onlyIfNewer: true }); // older replay: not applied, nothing changes
        await step("offline", T0 + 4 * SEC); // away -> offline
        expect(seen).toEqual([
          ["offline", "available"],
          ["available", "available"],
          ["available", "away"],
          ["away", "away"],
          ["away", "offline"],
        ]);
      });

      it("setPresence on an unknown advisor gives UNKNOWN_ADVISOR and creates nothing", async () => {
        const id = uid("adv");
        expect(await store.setPresence(id, "available", T0)).toEqual({ ok: false, reason: "UNKNOWN_ADVISOR" });
        expect(await store.getAdvisor(id)).toBeNull();
      });

      it("getAdvisor gives null for an unknown id; getAdvisors keeps the order, with null for unknown ids", async () => {
        const a = await online();
        const b = await online();
        const unknown = uid("adv");
        expect(await store.getAdvisor(unknown)).toBeNull();
        const states = await store.getAdvisors([b.profile.id, unknown, a.profile.id, b.profile.id]);
        expect(states.map((state) => state?.profile.id ?? null)).toEqual([b.profile.id, null, a.profile.id, b.profile.id]);
        expect(states[0]).toEqual(await store.getAdvisor(b.profile.id));
        expect(await store.getAdvisors([])).toEqual([]);
      });

      it("returns copies: mutating arguments or results never changes the store", async () => {
        const p = profile({ languages: ["en"] });
        const returned = await store.upsertAdvisor(p, T0);
        p.languages.push("xx");
        p.maxConcurrent = 99;
        returned.profile.languages.push("yy");
        returned.supply.active = 7;
        returned.assignments.push("bogus");
        const fetched = await advisorOf(p.id);
        fetched.stats.ratingCount = 42;
        fetched.pushHolds.push("bogus");

        const again = await advisorOf(p.id);
        expect(again.profile.languages).toEqual(["en"]);
        expect(again.profile.maxConcurrent).toBe(3);
        expect(again.supply.active).toBe(0);
        expect(again.assignments).toEqual([]);
        expect(again.pushHolds).toEqual([]);
        expect(again.stats.ratingCount).toBe(0);

        const f = facts({ language: "en" });
        const created = await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + MIN });
        f.language = "xx";
        created.request.excluded.push("bogus");
        const offers = [offer(f.id, uid("adv"))];
        const added = ok(await store.addOffers(f.id, 0, offers, T0));
        offers[0]!.outcome = "accepted";
        added.request.offers[0]!.expiresAt = 0;
        const request = await requestOf(f.id);
        expect(request.facts.language).toBe("en");
        expect(request.excluded).toEqual([]);
        expect(request.offers[0]).toMatchObject({ outcome: null, expiresAt: T0 + OFFER_TTL });
      });

      it("recordAnswer folds answers into the responsiveness EWMAs (updateResponsiveness, alpha 0.2)", async () => {
        const a = await online();
        const answers: OfferAnswer[] = [{ accepted: true, latencyMs: 4_000 }, { accepted: false }, { accepted: true, latencyMs: 9_000 }];
        let expected = { ...EMPTY_STATS };
        for (const answer of answers) {
          await store.recordAnswer(a.profile.id, answer);
          expected = updateResponsiveness(expected, answer, 0.2);
        }
        const { stats } = await advisorOf(a.profile.id);
        expect(stats).toEqual(expected);
        // Independently: accept 1 -> 0.8 -> 0.84; latency 4000 -> 4000 -> 5000.
        expect(stats.acceptEwma).toBeCloseTo(0.84, 12);
        expect(stats.latencyEwmaMs).toBeCloseTo(5_000, 9);
      });

      it("recordRating adds to the rating sum and count", async () => {
        const a = await online();
        await store.recordRating(a.profile.id, 5);
        await store.recordRating(a.profile.id, 3);
        expect((await advisorOf(a.profile.id)).stats).toMatchObject({ ratingSum: 8, ratingCount: 2 });
      });

      it("setIncentive sets the incentive clamped to 0..1", async () => {
        const a = await online();
        await store.setIncentive(a.profile.id, 0.4);
        expect((await advisorOf(a.profile.id)).stats.incentive).toBeCloseTo(0.4, 12);
        await store.setIncentive(a.profile.id, 7);
        expect((await advisorOf(a.profile.id)).stats.incentive).toBe(1);
        await store.setIncentive(a.profile.id, -2);
        expect((await advisorOf(a.profile.id)).stats.incentive).toBe(0);
      });

      it("stats updates for an unknown advisor neither throw nor create it", async () => {
        const id = uid("adv");
        await store.recordAnswer(id, { accepted: false });
        await store.recordRating(id, 5);
        await store.setIncentive(id, 0.5);
        expect(await store.getAdvisor(id)).toBeNull();
      });
    });

    // ==== findCandidates ========================================================================

    describe("findCandidates", () => {
      it("looks in one pool: the branch, the region, or national", async () => {
        const languages = [w.language];
        const here = await online({ languages });
        const sameRegion = await online({ languages, branchId: uid("br") });
        const elsewhere = await online({ languages, branchId: uid("br"), region: uid("rg") });

        expect(await candidateIds({ pool: "branch", poolId: w.branchId })).toEqual([here.profile.id]);
        expect(await candidateIds({ pool: "region", poolId: w.region })).toEqual(sorted([here.profile.id, sameRegion.profile.id]));
        expect(await candidateIds({ pool: "national", poolId: "*", language: w.language })).toEqual(
          sorted([here.profile.id, sameRegion.profile.id, elsewhere.profile.id]),
        );
        expect(await candidateIds({ pool: "branch", poolId: uid("br") })).toEqual([]);

        const found = await store.findCandidates(query({ pool: "branch", poolId: w.branchId }));
        expect(found[0]).toEqual(await store.getAdvisor(here.profile.id));
      });

      it("requires an active-status licence of the kind (validity windows are left to eligibility)", async () => {
        const active = await online({ licences: [licence()] });
        const suspendedKind = await online({ licences: [licence({ status: "suspended" }), licence({ kind: "insurance" })] });
        await online({ licences: [licence({ status: "revoked" })] });
        const lapsedByDate = await online({ licences: [licence({ validUntil: T0 - DAY })] });
        await online({ licences: [licence({ kind: "futures" })] });

        expect(await candidateIds({ licence: "fund_sales" })).toEqual(sorted([active.profile.id, lapsedByDate.profile.id]));
        expect(await candidateIds({ licence: "insurance" })).toEqual([suspendedKind.profile.id]);
        expect(await candidateIds({ licence: "securities_advisory" })).toEqual([]);
      });

      it("filters by language (case-insensitively, as eligibility does), or takes any language when null", async () => {
        const english = await online({ languages: ["en"] });
        const frenchGerman = await online({ languages: ["fr", "De"] });

        expect(await candidateIds({ language: "en" })).toEqual([english.profile.id]);
        expect(await candidateIds({ language: "de" })).toEqual([frenchGerman.profile.id]);
        expect(await candidateIds({ language: "FR" })).toEqual([frenchGerman.profile.id]);
        expect(await candidateIds({ language: "EN" })).toEqual([english.profile.id]);
        expect(await candidateIds({ language: "es" })).toEqual([]);
        expect(await candidateIds({ language: null })).toEqual(sorted([english.profile.id, frenchGerman.profile.id]));
      });

      it("returns only advisors whose suitability scope reaches minRisk, merged in pool order", async () => {
        const base = uid("adv");
        // Ids in the opposite order to the scopes, so the merge across scopes is visible.
        const scope5 = await online({ id: `${base}_a`, suitabilityMaxRisk: 5 });
        const scope3 = await online({ id: `${base}_b`, suitabilityMaxRisk: 3 });
        const scope1 = await online({ id: `${base}_c`, suitabilityMaxRisk: 1 });

        expect(await candidateIds({ minRisk: 1 })).toEqual([scope5.profile.id, scope3.profile.id, scope1.profile.id]);
        expect(await candidateIds({ minRisk: 2 })).toEqual([scope5.profile.id, scope3.profile.id]);
        expect(await candidateIds({ minRisk: 3 })).toEqual([scope5.profile.id, scope3.profile.id]);
        expect(await candidateIds({ minRisk: 4 })).toEqual([scope5.profile.id]);
        expect(await candidateIds({ minRisk: 5 })).toEqual([scope5.profile.id]);
      });

      it("returns only active, available advisors below maxConcurrent assignments (push holds and heartbeat age are hints)", async () => {
        const ready = await online();
        const away = await online();
        ok(await store.setPresence(away.profile.id, "away", T0));
        await store.upsertAdvisor(profile(), T0); // offline: never set available
        await online({ status: "suspended" });
        await online({ status: "offboarded" });
        await online({ maxConcurrent: 0 });
        const full = await online({ maxConcurrent: 1 });
        ok(await store.takeAssignment(full.profile.id, facts(), uid("off"), T0 + SEC, TTL));
        const heldFull = await online({ maxConcurrent: 1 });
        ok(await store.holdPushSlot(heldFull.profile.id, facts(), uid("off"), T0 + SEC, TTL));
        const staleHeartbeat = await online({}, T0 - 10 * MIN);

        expect(await candidateIds()).toEqual(sorted([ready.profile.id, heldFull.profile.id, staleHeartbeat.profile.id]));
      });

      it("orders by lastAssignedAt ascending, then id, and returns at most limit", async () => {
        const base = uid("adv");
        const specs = [
          { suffix: "a", scope: 5, assignedAt: T0 + 3 * SEC },
          { suffix: "b", scope: 2, assignedAt: null },
          { suffix: "c", scope: 4, assignedAt: T0 + 1 * SEC },
          { suffix: "d", scope: 5, assignedAt: null },
          { suffix: "e", scope: 3, assignedAt: T0 + 2 * SEC },
        ];
        for (const spec of specs) {
          const a = await online({ id: `${base}_${spec.suffix}`, suitabilityMaxRisk: spec.scope });
          if (spec.assignedAt === null) continue;
          const request = facts({ riskLevel: 1 });
          ok(await store.takeAssignment(a.profile.id, request, uid("off"), spec.assignedAt, TTL));
          await store.releaseAssignment(a.profile.id, request.id);
        }
        const id = (suffix: string) => `${base}_${suffix}`;

        expect(await candidateIds({ limit: 10 })).toEqual([id("b"), id("d"), id("c"), id("e"), id("a")]);
        expect(await candidateIds({ limit: 3 })).toEqual([id("b"), id("d"), id("c")]);
        expect(await candidateIds({ limit: 1 })).toEqual([id("b")]);
        expect(await candidateIds({ limit: 0 })).toEqual([]);
        expect(await candidateIds({ minRisk: 3, limit: 2 })).toEqual([id("d"), id("c")]);
      });

      it("merges the scope lists in order even when one list holds most of the candidates (read in several rounds)", async () => {
        const base = uid("adv");
        // 45 in scope 5 and 3 in scope 3 (ids interleaved across both), a seventh of them away (out of
        // the index): a reader that takes the lists a share at a time must read the big one again.
        const ids: string[] = [];
        for (let i = 0; i < 48; i++) {
          const id = `${base}_${String(i).padStart(2, "0")}`;
          await online({ id, suitabilityMaxRisk: i % 16 === 5 ? 3 : 5 });
          ids.push(id);
        }
        const away = ids.filter((_, i) => i % 7 === 0);
        for (const id of away) ok(await store.setPresence(id, "away", T0));
        const ready = ids.filter((id) => !away.includes(id));

        expect(await candidateIds({ minRisk: 3, limit: 40 })).toEqual(ready.slice(0, 40));
        expect(await candidateIds({ minRisk: 1, limit: 100 })).toEqual(ready);
        expect(await candidateIds({ minRisk: 4, limit: 100 })).toEqual(ready.filter((_, i) => ids.indexOf(ready[i]!) % 16 !== 5));
      });

      it("re-indexes on presence, profile, assignment and restore changes", async () => {
        const base = uid("adv");
        const a = await online({ id: `${base}_a`, maxConcurrent: 1 });
        const b = await online({ id: `${base}_b` });
        const both = [a.profile.id, b.profile.id];
        expect(await candidateIds()).toEqual(both);

        ok(await store.setPresence(a.profile.id, "away", T0 + SEC));
        expect(await candidateIds()).toEqual([b.profile.id]);
        ok(await store.setPresence(a.profile.id, "available", T0 + SEC));
        expect(await candidateIds()).toEqual(both);

        const otherBranch = uid("br");
        await store.upsertAdvisor({ ...a.profile, branchId: otherBranch }, T0 + SEC);
        expect(await candidateIds()).toEqual([b.profile.id]);
        expect(await candidateIds({ poolId: otherBranch })).toEqual([a.profile.id]);
        await store.upsertAdvisor({ ...a.profile, licences: [licence({ status: "suspended" })] }, T0 + SEC);
        expect(await candidateIds()).toEqual([b.profile.id]);
        expect(await candidateIds({ poolId: otherBranch })).toEqual([]);
        await store.upsertAdvisor(a.profile, T0 + SEC);
        expect(await candidateIds()).toEqual(both);

        // Full (maxConcurrent 1) leaves the index; released, it returns behind b (assigned more recently).
        const request = facts();
        ok(await store.takeAssignment(a.profile.id, request, uid("off"), T0 + 2 * SEC, TTL));
        expect(await candidateIds()).toEqual([b.profile.id]);
        await store.releaseAssignment(a.profile.id, request.id);
        expect(await candidateIds()).toEqual([b.profile.id, a.profile.id]);

        const current = await advisorOf(b.profile.id);
        await store.restoreAdvisor({ ...current, supply: { ...current.supply, presence: "offline" } });
        expect(await candidateIds()).toEqual([a.profile.id]);
        await store.restoreAdvisor({ ...current, stats: { ...current.stats, lastAssignedAt: T0 + 9 * SEC } });
        expect(await candidateIds()).toEqual([a.profile.id, b.profile.id]);
      });
    });

    // ==== capacity ==============================================================================

    describe("push holds, broadcast checks and assignments", () => {
      it("holdPushSlot checks eligibility (capacity rule push), holds a slot and returns the snapshot", async () => {
        const a = await online({ maxConcurrent: 2, suitabilityMaxRisk: 4, languages: ["en", "fr"] });
        const request = facts({ riskLevel: 3, language: "en" });
        const offerId = uid("off");

        const held = ok(await store.holdPushSlot(a.profile.id, request, offerId, T0 + SEC, TTL));
        expect(held.duplicate).toBe(false);
        expect(held.snapshot).toEqual(expectedSnapshot(a, request, T0 + SEC, "push"));
        expect(held.snapshot).toMatchObject({ checkedAt: T0 + SEC, active: 0, pendingPush: 0, maxConcurrent: 2 });
        expect(held.advisor.pushHolds).toEqual([offerId]);
        expect(held.advisor.supply).toMatchObject({ active: 0, pendingPush: 1 });
        expect(await advisorOf(a.profile.id)).toEqual(held.advisor);
      });

      it("holdPushSlot is idempotent per offer id, even when the hold fills the capacity", async () => {
        const a = await online({ maxConcurrent: 1 });
        const request = facts();
        const offerId = uid("off");
        const first = ok(await store.holdPushSlot(a.profile.id, request, offerId, T0 + SEC, TTL));
        const again = ok(await store.holdPushSlot(a.profile.id, request, offerId, T0 + 2 * SEC, TTL));
        expect(again.duplicate).toBe(true);
        // The snapshot it was granted with (checked at T0 + 1 s), not a new check.
        expect(again.snapshot).toEqual(first.snapshot);
        expect(again.advisor).toEqual(first.advisor);
        expect((await advisorOf(a.profile.id)).pushHolds).toEqual([offerId]);
      });

      it("holdPushSlot refuses an unknown advisor and every eligibility rule, holding nothing", async () => {
        const unknown = await store.holdPushSlot(uid("adv"), facts(), uid("off"), T0 + SEC, TTL);
        expect(unknown).toMatchObject({ ok: false, reason: "UNKNOWN_ADVISOR" });

        const cases: Array<{ reason: string; advisor: Partial<AdvisorProfile>; request?: Partial<RequestFacts>; presence?: "away"; now?: number }> = [
          { reason: "STATUS", advisor: { status: "suspended" } },
          { reason: "PRESENCE", advisor: {}, presence: "away" },
          { reason: "PRESENCE", advisor: {}, now: T0 + TTL }, // heartbeat exactly TTL old
          { reason: "LICENCE", advisor: {}, request: { requiredLicence: "futures" } },
          { reason: "LICENCE", advisor: { licences: [licence({ validUntil: T0 })] } },
          { reason: "SUITABILITY", advisor: { suitabilityMaxRisk: 2 }, request: { riskLevel: 3 } },
          { reason: "LANGUAGE", advisor: { languages: ["en"] }, request: { language: "ja" } },
        ];
        for (const c of cases) {
          const a = await online(c.advisor);
          if (c.presence) ok(await store.setPresence(a.profile.id, c.presence, T0));
          const result = await store.holdPushSlot(a.profile.id, facts(c.request), uid("off"), c.now ?? T0 + SEC, TTL);
          expect(result, c.reason).toMatchObject({ ok: false, reason: c.reason });
          if (!result.ok) expect(result.detail.length, c.reason).toBeGreaterThan(0);
          expect((await advisorOf(a.profile.id)).pushHolds, c.reason).toEqual([]);
        }
      });

      it("push holds count against push capacity together with assignments", async () => {
        const a = await online({ maxConcurrent: 2 });
        const [h1, h2, h3] = [uid("off"), uid("off"), uid("off")];
        ok(await store.holdPushSlot(a.profile.id, facts(), h1, T0 + SEC, TTL));
        ok(await store.holdPushSlot(a.profile.id, facts(), h2, T0 + SEC, TTL));
        expectRefused(await store.holdPushSlot(a.profile.id, facts(), h3, T0 + SEC, TTL), "CAPACITY");
        expect((await advisorOf(a.profile.id)).pushHolds).toEqual([h1, h2]);

        await store.releasePushHold(a.profile.id, h1);
        ok(await store.takeAssignment(a.profile.id, facts(), uid("off"), T0 + 2 * SEC, TTL));
        // One assignment plus one hold fill maxConcurrent 2.
        expectRefused(await store.holdPushSlot(a.profile.id, facts(), h3, T0 + 3 * SEC, TTL), "CAPACITY");
        const state = await advisorOf(a.profile.id);
        expect(state.supply).toMatchObject({ active: 1, pendingPush: 1 });
      });

      it("checkBroadcastEligibility counts assignments only and holds nothing", async () => {
        const a = await online({ maxConcurrent: 1 });
        const pushRequest = facts();
        const heldOffer = uid("off");
        ok(await store.holdPushSlot(a.profile.id, pushRequest, heldOffer, T0 + SEC, TTL));
        const before = await advisorOf(a.profile.id);

        const request = facts();
        const checked = ok(await store.checkBroadcastEligibility(a.profile.id, request, T0 + 2 * SEC, TTL));
        expect(checked.duplicate).toBe(false);
        expect(checked.snapshot).toEqual(expectedSnapshot(before, request, T0 + 2 * SEC, "broadcast"));
        expect(checked.snapshot).toMatchObject({ active: 0, pendingPush: 1 });
        expect(await advisorOf(a.profile.id)).toEqual(before);

        ok(await store.takeAssignment(a.profile.id, pushRequest, heldOffer, T0 + 3 * SEC, TTL));
        expectRefused(await store.checkBroadcastEligibility(a.profile.id, facts(), T0 + 4 * SEC, TTL), "CAPACITY");
        expectRefused(await store.checkBroadcastEligibility(uid("adv"), facts(), T0 + 4 * SEC, TTL), "UNKNOWN_ADVISOR");
        const away = await online();
        ok(await store.setPresence(away.profile.id, "away", T0));
        expectRefused(await store.checkBroadcastEligibility(away.profile.id, facts(), T0 + SEC, TTL), "PRESENCE");
      });

      it("takeAssignment converts the advisor's own push hold into the assignment (capacity rule accept)", async () => {
        const a = await online({ maxConcurrent: 1 });
        const request = facts();
        const offerId = uid("off");
        const held = ok(await store.holdPushSlot(a.profile.id, request, offerId, T0 + SEC, TTL));

        const taken = ok(await store.takeAssignment(a.profile.id, request, offerId, T0 + 5 * SEC, TTL));
        expect(taken.duplicate).toBe(false);
        expect(taken.snapshot).toEqual(expectedSnapshot(held.advisor, request, T0 + 5 * SEC, "accept"));
        expect(taken.advisor.assignments).toEqual([request.id]);
        expect(taken.advisor.pushHolds).toEqual([]);
        expect(taken.advisor.supply).toMatchObject({ active: 1, pendingPush: 0 });
        expect(taken.advisor.stats.lastAssignedAt).toBe(T0 + 5 * SEC);
        expect(await advisorOf(a.profile.id)).toEqual(taken.advisor);
      });

      it("takeAssignment without a hold for that offer keeps the holds and counts them (capacity rule push)", async () => {
        const a = await online({ maxConcurrent: 2 });
        const pushed = facts();
        const heldOffer = uid("off");
        ok(await store.holdPushSlot(a.profile.id, pushed, heldOffer, T0 + SEC, TTL));

        const grabbed = facts();
        const taken = ok(await store.takeAssignment(a.profile.id, grabbed, uid("off"), T0 + 2 * SEC, TTL));
        expect(taken.advisor.assignments).toEqual([grabbed.id]);
        expect(taken.advisor.pushHolds).toEqual([heldOffer]);
        expect(taken.advisor.supply).toMatchObject({ active: 1, pendingPush: 1 });

        // 1 assignment + 1 hold = maxConcurrent: a third request does not fit, the hold's own accept does.
        expectRefused(await store.takeAssignment(a.profile.id, facts(), uid("off"), T0 + 3 * SEC, TTL), "CAPACITY");
        const converted = ok(await store.takeAssignment(a.profile.id, pushed, heldOffer, T0 + 4 * SEC, TTL));
        expect(sorted(converted.advisor.assignments)).toEqual(sorted([grabbed.id, pushed.id]));
        expect(converted.advisor.supply).toMatchObject({ active: 2, pendingPush: 0 });
        expectSupplyInvariants(converted.advisor);
      });

      it("takeAssignment is idempotent per request: a repeat is a duplicate and changes nothing", async () => {
        const a = await online({ maxConcurrent: 1 });
        const request = facts();
        const first = ok(await store.takeAssignment(a.profile.id, request, uid("off"), T0 + SEC, TTL));
        const again = ok(await store.takeAssignment(a.profile.id, request, uid("off"), T0 + 9 * SEC, TTL));
        expect(again.duplicate).toBe(true);
        expect(again.snapshot).toEqual(first.snapshot);
        expect(again.advisor).toEqual(first.advisor);
        const state = await advisorOf(a.profile.id);
        expect(state.assignments).toEqual([request.id]);
        expect(state.stats.lastAssignedAt).toBe(T0 + SEC);
      });

      it("takeAssignment re-checks eligibility and changes nothing when refused", async () => {
        expectRefused(await store.takeAssignment(uid("adv"), facts(), uid("off"), T0, TTL), "UNKNOWN_ADVISOR");

        const away = await online();
        ok(await store.setPresence(away.profile.id, "away", T0));
        expectRefused(await store.takeAssignment(away.profile.id, facts(), uid("off"), T0 + SEC, TTL), "PRESENCE");

        const suspended = await online({ status: "suspended" });
        expectRefused(await store.takeAssignment(suspended.profile.id, facts(), uid("off"), T0 + SEC, TTL), "STATUS");

        const full = await online({ maxConcurrent: 1 });
        ok(await store.takeAssignment(full.profile.id, facts(), uid("off"), T0 + SEC, TTL));
        const before = await advisorOf(full.profile.id);
        expectRefused(await store.takeAssignment(full.profile.id, facts(), uid("off"), T0 + 2 * SEC, TTL), "CAPACITY");
        expect(await advisorOf(full.profile.id)).toEqual(before);

        const unlicensed = await online();
        expectRefused(await store.takeAssignment(unlicensed.profile.id, facts({ requiredLicence: "futures" }), uid("off"), T0 + SEC, TTL), "LICENCE");
        expect((await advisorOf(unlicensed.profile.id)).stats.lastAssignedAt).toBe(0);
      });

      it("releaseAssignment frees the slot and is idempotent", async () => {
        const a = await online({ maxConcurrent: 1 });
        const request = facts();
        ok(await store.takeAssignment(a.profile.id, request, uid("off"), T0 + SEC, TTL));

        const released = await store.releaseAssignment(a.profile.id, request.id);
        expect(released?.assignments).toEqual([]);
        expect(released?.supply.active).toBe(0);
        expect(await store.releaseAssignment(a.profile.id, request.id)).toEqual(released);
        expect(await store.releaseAssignment(a.profile.id, uid("req"))).toEqual(released);
        expect(await store.releaseAssignment(uid("adv"), request.id)).toBeNull();
        ok(await store.takeAssignment(a.profile.id, facts(), uid("off"), T0 + 2 * SEC, TTL));
        expectSupplyInvariants(await store.getAdvisor(a.profile.id));
      });

      it("releasePushHold frees the slot and is idempotent", async () => {
        const a = await online({ maxConcurrent: 1 });
        const offerId = uid("off");
        ok(await store.holdPushSlot(a.profile.id, facts(), offerId, T0 + SEC, TTL));
        expectRefused(await store.holdPushSlot(a.profile.id, facts(), uid("off"), T0 + SEC, TTL), "CAPACITY");

        const released = await store.releasePushHold(a.profile.id, offerId);
        expect(released?.pushHolds).toEqual([]);
        expect(released?.supply.pendingPush).toBe(0);
        expect(await store.releasePushHold(a.profile.id, offerId)).toEqual(released);
        expect(await store.releasePushHold(uid("adv"), offerId)).toBeNull();
        ok(await store.holdPushSlot(a.profile.id, facts(), uid("off"), T0 + 2 * SEC, TTL));
      });

      it("never exceeds capacity across a mixed sequence of holds, accepts and releases", async () => {
        const a = await online({ maxConcurrent: 3 });
        const id = a.profile.id;
        const requests = Array.from({ length: 8 }, () => facts());
        const offers = requests.map(() => uid("off"));
        let now = T0 + SEC;
        const results: boolean[] = [];
        for (let i = 0; i < requests.length; i++) {
          now += 100;
          const request = requests[i]!;
          const step = i % 4;
          if (step === 0 || step === 1) results.push((await store.holdPushSlot(id, request, offers[i]!, now, TTL)).ok);
          if (step === 1) results.push((await store.takeAssignment(id, request, offers[i]!, now, TTL)).ok);
          if (step === 2) results.push((await store.takeAssignment(id, request, uid("off"), now, TTL)).ok);
          if (step === 3) results.push((await store.checkBroadcastEligibility(id, request, now, TTL)).ok);
          const state = await advisorOf(id);
          expect(state.supply.active + state.supply.pendingPush).toBeLessThanOrEqual(3);
        }
        // Round one: a hold, a hold converted by its accept, and a grab leave 2 assignments + 1 hold = 3.
        // Round two: holds and grabs no longer fit; a broadcast check (assignments only) still does.
        expect(results).toEqual([true, true, true, true, true, false, false, false, false, true]);
      });
    });

    // ==== requests and offers ===================================================================

    describe("requests and offers", () => {
      it("createRequest registers a pending request at the given stage with its first deadline", async () => {
        const f = facts();
        const { request, created } = await store.createRequest(f, { stageIndex: 1, now: T0, deadline: T0 + MIN });
        const expected: LiveRequest = {
          facts: f,
          status: "pending",
          stageIndex: 1,
          stageStartedAt: T0,
          offersInStage: 0,
          assignedAdvisorId: null,
          excluded: [],
          offers: [],
          queueScore: null,
          callbackRequested: false,
          updatedAt: T0,
          rev: 1,
        };
        expect(created).toBe(true);
        expect(request).toEqual(expected);
        expect(await store.getRequest(f.id)).toEqual(expected);
        expect(await store.getDeadline(f.id)).toBe(T0 + MIN);
        expect(await store.listLiveRequestIds()).toContain(f.id);
      });

      it("createRequest is idempotent on facts.id: the existing request comes back unchanged with created false", async () => {
        const f = facts();
        const first = await store.createRequest(f, { stageIndex: 0, now: T0, deadline: T0 + MIN });
        const second = await store.createRequest({ ...f, priority: 9 }, { stageIndex: 2, now: T0 + SEC, deadline: T0 + 5 * MIN });
        expect(second.created).toBe(false);
        expect(second.request).toEqual(first.request);
        expect(await store.getRequest(f.id)).toEqual(first.request);
        expect(await store.getDeadline(f.id)).toBe(T0 + MIN);
      });

      it("getRequest gives null for an unknown id", async () => {
        expect(await store.getRequest(uid("req"))).toBeNull();
      });

      it("addOffers records open offers, marks the request offered and counts them in the stage", async () => {
        const request = await newRequest();
        const offers = [offer(request.facts.id, uid("adv")), offer(request.facts.id, uid("adv"), { kind: "broadcast" })];
        const added = ok(await store.addOffers(request.facts.id, 0, offers, T0 + SEC));
        expect(added.request).toMatchObject({ status: "offered", offersInStage: 2, updatedAt: T0 + SEC });
        expect(added.request.offers).toEqual(offers);
        expect(await store.getRequest(request.facts.id)).toEqual(added.request);

        const more = [offer(request.facts.id, uid("adv"))];
        const again = ok(await store.addOffers(request.facts.id, 0, more, T0 + 2 * SEC));
        expect(again.request.offersInStage).toBe(3);
        expect(again.request.offers).toEqual([...offers, ...more]);
      });

      it("addOffers refuses the whole batch when one offer goes to an excluded advisor (EXCLUDED)", async () => {
        const request = await newRequest();
        const [declinedAdvisor, fresh] = [uid("adv"), uid("adv")];
        const [first] = await offerTo(request.facts.id, [declinedAdvisor]);
        ok(await store.closeOffer(request.facts.id, first!.id, "declined", T0 + SEC, declinedAdvisor));
        const before = await requestOf(request.facts.id);

        const batch = [offer(request.facts.id, fresh), offer(request.facts.id, declinedAdvisor)];
        expect(await store.addOffers(request.facts.id, 0, batch, T0 + 2 * SEC)).toEqual({ ok: false, reason: "EXCLUDED" });
        expect(await store.getRequest(request.facts.id)).toEqual(before);
      });

      it("addOffers refuses the whole batch when an advisor already has an open offer (ALREADY_OFFERED)", async () => {
        const request = await newRequest();
        const [busy, fresh] = [uid("adv"), uid("adv")];
        const [open] = await offerTo(request.facts.id, [busy]);
        const before = await requestOf(request.facts.id);

        const batch = [offer(request.facts.id, fresh), offer(request.facts.id, busy)];
        expect(await store.addOffers(request.facts.id, 0, batch, T0 + SEC)).toEqual({ ok: false, reason: "ALREADY_OFFERED" });
        const twice = [offer(request.facts.id, fresh), offer(request.facts.id, fresh)];
        expect(await store.addOffers(request.facts.id, 0, twice, T0 + SEC)).toEqual({ ok: false, reason: "ALREADY_OFFERED" });
        expect(await store.getRequest(request.facts.id)).toEqual(before);

        // A withdrawn offer is closed and does not exclude: the advisor may be offered again.
        ok(await store.closeOffer(request.facts.id, open!.id, "withdrawn", T0 + 2 * SEC));
        ok(await store.addOffers(request.facts.id, 0, [offer(request.facts.id, busy)], T0 + 3 * SEC));
      });

      it("addOffers refuses an unknown request (NOT_FOUND), a moved stage (STAGE_CHANGED) and an assigned or ended request (NOT_LIVE)", async () => {
        expect(await store.addOffers(uid("req"), 0, [offer(uid("req"), uid("adv"))], T0)).toEqual({ ok: false, reason: "NOT_FOUND" });

        const request = await newRequest({}, 1);
        const id = request.facts.id;
        expect(await store.addOffers(id, 0, [offer(id, uid("adv"))], T0)).toEqual({ ok: false, reason: "STAGE_CHANGED" });
        expect(await requestOf(id)).toEqual(request);

        const winner = uid("adv");
        const [won] = await offerTo(id, [winner], { stageIndex: 1 });
        ok(await store.claimOffer(id, won!.id, winner, T0 + SEC));
        expect(await store.addOffers(id, 1, [offer(id, uid("adv"), { stageIndex: 1 })], T0 + 2 * SEC)).toEqual({ ok: false, reason: "NOT_LIVE" });

        const cancelled = await newRequest();
        ok(await store.finishRequest(cancelled.facts.id, { to: "cancelled", now: T0 + SEC }));
        expect(await store.addOffers(cancelled.facts.id, 0, [offer(cancelled.facts.id, uid("adv"))], T0 + 2 * SEC)).toEqual({
          ok: false,
          reason: "NOT_LIVE",
        });
      });

      it("claimOffer: the first claim wins; other broadcast offers lose the race, push offers are withdrawn, all returned as superseded", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const [winner, rival, pushed, decliner] = [uid("adv"), uid("adv"), uid("adv"), uid("adv")];
        const [declined] = await offerTo(id, [decliner]);
        ok(await store.closeOffer(id, declined!.id, "declined", T0 + SEC, decliner));
        const [won, lost] = await offerTo(id, [winner, rival], { kind: "broadcast" }, T0 + 2 * SEC);
        const [push] = await offerTo(id, [pushed], { kind: "push" }, T0 + 2 * SEC);

        const claim = ok(await store.claimOffer(id, won!.id, winner, T0 + 5 * SEC));
        expect(claim.duplicate).toBe(false);
        expect(claim.offer).toEqual({ ...won, outcome: "accepted", respondedAt: T0 + 5 * SEC });
        expect(claim.superseded).toEqual([
          { ...lost, outcome: "lost_race", respondedAt: T0 + 5 * SEC },
          { ...push, outcome: "withdrawn", respondedAt: T0 + 5 * SEC },
        ]);
        expect(claim.request).toMatchObject({ status: "assigned", assignedAdvisorId: winner, queueScore: null });
        expect(claim.request.offers).toEqual([
          { ...declined, outcome: "declined", respondedAt: T0 + SEC },
          { ...won, outcome: "accepted", respondedAt: T0 + 5 * SEC },
          { ...lost, outcome: "lost_race", respondedAt: T0 + 5 * SEC },
          { ...push, outcome: "withdrawn", respondedAt: T0 + 5 * SEC },
        ]);
        expect(await store.getRequest(id)).toEqual(claim.request);
      });

      it("claimOffer: later claimants get ALREADY_TAKEN, losers of the race even after the request ends", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const [winner, rival, pushed] = [uid("adv"), uid("adv"), uid("adv")];
        const [won, lost] = await offerTo(id, [winner, rival], { kind: "broadcast" });
        const [push] = await offerTo(id, [pushed], { kind: "push" });
        ok(await store.claimOffer(id, won!.id, winner, T0 + SEC));
        const assigned = await requestOf(id);

        expect(await store.claimOffer(id, lost!.id, rival, T0 + 2 * SEC)).toEqual({ ok: false, reason: "ALREADY_TAKEN" });
        expect(await store.claimOffer(id, push!.id, pushed, T0 + 2 * SEC)).toEqual({ ok: false, reason: "ALREADY_TAKEN" });
        expect(await store.getRequest(id)).toEqual(assigned);

        ok(await store.finishRequest(id, { to: "completed", now: T0 + MIN }));
        expect(await store.claimOffer(id, lost!.id, rival, T0 + MIN + SEC)).toEqual({ ok: false, reason: "ALREADY_TAKEN" });
        // Not lost_race and no longer assigned: the request's end is the precise reason.
        expect(await store.claimOffer(id, push!.id, pushed, T0 + MIN + SEC)).toEqual({ ok: false, reason: "NOT_LIVE" });
      });

      it("claimOffer: a repeat claim of the winning offer is a duplicate with no second effect", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const winner = uid("adv");
        const [won] = await offerTo(id, [winner, uid("adv")], { kind: "broadcast" });
        const first = ok(await store.claimOffer(id, won!.id, winner, T0 + 5 * SEC));

        const again = ok(await store.claimOffer(id, won!.id, winner, T0 + 8 * SEC));
        expect(again.duplicate).toBe(true);
        expect(again.offer).toEqual(first.offer);
        expect(again.request).toEqual(first.request);
        // Even past the offer's expiry the winner's repeat is a duplicate, not OFFER_EXPIRED or OFFER_CLOSED.
        expect(ok(await store.claimOffer(id, won!.id, winner, T0 + 10 * MIN)).duplicate).toBe(true);
        expect(await store.getRequest(id)).toEqual(first.request);
      });

      it("claimOffer refusals: NOT_FOUND, NOT_YOURS, OFFER_CLOSED, OFFER_EXPIRED (expiresAt <= now), NOT_LIVE", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const [a, b, c] = [uid("adv"), uid("adv"), uid("adv")];
        const [toA, toB, toC] = await offerTo(id, [a, b, c], { kind: "broadcast" });

        expect(await store.claimOffer(uid("req"), toA!.id, a, T0 + SEC)).toEqual({ ok: false, reason: "NOT_FOUND" });
        expect(await store.claimOffer(id, uid("off"), a, T0 + SEC)).toEqual({ ok: false, reason: "NOT_FOUND" });
        expect(await store.claimOffer(id, toA!.id, b, T0 + SEC)).toEqual({ ok: false, reason: "NOT_YOURS" });

        ok(await store.closeOffer(id, toA!.id, "declined", T0 + SEC, a));
        expect(await store.claimOffer(id, toA!.id, a, T0 + 2 * SEC)).toEqual({ ok: false, reason: "OFFER_CLOSED" });

        expect(await store.claimOffer(id, toB!.id, b, toB!.expiresAt)).toEqual({ ok: false, reason: "OFFER_EXPIRED" });
        const stillOpen = await requestOf(id);
        expect(stillOpen.status).toBe("offered");
        expect(stillOpen.assignedAdvisorId).toBeNull();
        expect(stillOpen.offers.filter((o) => o.outcome === null).map((o) => o.id)).toEqual([toB!.id, toC!.id]);

        ok(await store.finishRequest(id, { to: "cancelled", now: T0 + 3 * SEC }));
        expect(await store.claimOffer(id, toC!.id, c, T0 + 4 * SEC)).toEqual({ ok: false, reason: "NOT_LIVE" });
      });

      it("claimOffer succeeds just before expiresAt", async () => {
        const request = await newRequest();
        const advisor = uid("adv");
        const [o] = await offerTo(request.facts.id, [advisor]);
        ok(await store.claimOffer(request.facts.id, o!.id, advisor, o!.expiresAt - 1));
      });

      it("claimOffer takes the request out of the queue", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + SEC, queueScore: 100 }));
        expect(await store.listQueue(100)).toContain(id);
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor], { stageIndex: 4 }, T0 + 2 * SEC);
        expect(await store.listQueue(100)).toContain(id); // offered while queued: still waiting

        const claim = ok(await store.claimOffer(id, o!.id, advisor, T0 + 3 * SEC));
        expect(claim.request.queueScore).toBeNull();
        expect(await store.listQueue(100)).not.toContain(id);
      });

      it("closeOffer declined closes the offer, excludes the advisor and returns the request to pending", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor]);
        const closed = ok(await store.closeOffer(id, o!.id, "declined", T0 + 3 * SEC, advisor));
        expect(closed.offer).toEqual({ ...o, outcome: "declined", respondedAt: T0 + 3 * SEC });
        expect(closed.request).toMatchObject({ status: "pending", excluded: [advisor], updatedAt: T0 + 3 * SEC, offersInStage: 1 });
        expect(await store.getRequest(id)).toEqual(closed.request);
      });

      it("closeOffer timed_out is NOT_DUE before expiresAt and excludes the advisor once due", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor]);

        const early = await store.closeOffer(id, o!.id, "timed_out", o!.expiresAt - 1);
        expect(early).toMatchObject({ ok: false, reason: "NOT_DUE" });
        expect((await requestOf(id)).offers[0]?.outcome).toBeNull();

        const closed = ok(await store.closeOffer(id, o!.id, "timed_out", o!.expiresAt));
        expect(closed.offer).toMatchObject({ outcome: "timed_out", respondedAt: o!.expiresAt });
        expect(closed.request).toMatchObject({ status: "pending", excluded: [advisor] });
      });

      it("closeOffer withdrawn does not exclude the advisor", async () => {
        const request = await newRequest();
        const advisor = uid("adv");
        const [o] = await offerTo(request.facts.id, [advisor]);
        const closed = ok(await store.closeOffer(request.facts.id, o!.id, "withdrawn", T0 + SEC));
        expect(closed.offer.outcome).toBe("withdrawn");
        expect(closed.request).toMatchObject({ status: "pending", excluded: [] });
      });

      it("closeOffer keeps the request offered while another offer is open", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const [a, b] = [uid("adv"), uid("adv")];
        const [toA, toB] = await offerTo(id, [a, b]);
        expect(ok(await store.closeOffer(id, toA!.id, "declined", T0 + SEC, a)).request.status).toBe("offered");
        expect(ok(await store.closeOffer(id, toB!.id, "declined", T0 + 2 * SEC, b)).request).toMatchObject({
          status: "pending",
          excluded: [a, b],
        });
      });

      it("closeOffer refusals: NOT_FOUND, NOT_YOURS, and ALREADY_CLOSED with the offer", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor]);

        expect(await store.closeOffer(uid("req"), o!.id, "declined", T0 + SEC)).toMatchObject({ ok: false, reason: "NOT_FOUND" });
        expect(await store.closeOffer(id, uid("off"), "declined", T0 + SEC)).toMatchObject({ ok: false, reason: "NOT_FOUND" });
        expect(await store.closeOffer(id, o!.id, "declined", T0 + SEC, uid("adv"))).toMatchObject({ ok: false, reason: "NOT_YOURS" });
        expect((await requestOf(id)).status).toBe("offered");

        ok(await store.closeOffer(id, o!.id, "declined", T0 + SEC, advisor));
        const repeat = await store.closeOffer(id, o!.id, "withdrawn", T0 + 2 * SEC);
        expect(repeat).toEqual({ ok: false, reason: "ALREADY_CLOSED", offer: { ...o, outcome: "declined", respondedAt: T0 + SEC } });
        expect((await requestOf(id)).offers[0]?.outcome).toBe("declined");
      });

      it("advanceStage is a compare-and-set on the stage and resets the stage's counters", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor]);
        ok(await store.closeOffer(id, o!.id, "declined", T0 + SEC, advisor));

        expect(await store.advanceStage(id, { fromStageIndex: 1, toStageIndex: 2, now: T0 + 30 * SEC, queueScore: null })).toEqual({
          ok: false,
          reason: "STAGE_CHANGED",
        });
        const moved = ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 1, now: T0 + 30 * SEC, queueScore: null }));
        expect(moved.request).toMatchObject({
          status: "pending",
          stageIndex: 1,
          stageStartedAt: T0 + 30 * SEC,
          offersInStage: 0,
          queueScore: null,
          excluded: [advisor],
        });
        expect(await store.getRequest(id)).toEqual(moved.request);
        // A second sweeper making the same move loses the compare-and-set.
        expect(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 1, now: T0 + 31 * SEC, queueScore: null })).toEqual({
          ok: false,
          reason: "STAGE_CHANGED",
        });
        expect(await store.getRequest(id)).toEqual(moved.request);
      });

      it("advanceStage refuses open offers (OFFERS_OPEN), assigned or ended requests (NOT_LIVE) and unknown ones (NOT_FOUND)", async () => {
        const move = { fromStageIndex: 0, toStageIndex: 1, now: T0 + MIN, queueScore: null };
        expect(await store.advanceStage(uid("req"), move)).toEqual({ ok: false, reason: "NOT_FOUND" });

        const offered = await newRequest();
        const advisor = uid("adv");
        const [o] = await offerTo(offered.facts.id, [advisor]);
        expect(await store.advanceStage(offered.facts.id, move)).toEqual({ ok: false, reason: "OFFERS_OPEN" });
        expect((await requestOf(offered.facts.id)).stageIndex).toBe(0);

        ok(await store.claimOffer(offered.facts.id, o!.id, advisor, T0 + SEC));
        expect(await store.advanceStage(offered.facts.id, move)).toEqual({ ok: false, reason: "NOT_LIVE" });

        const expired = await newRequest();
        ok(await store.finishRequest(expired.facts.id, { to: "expired", now: T0 + SEC }));
        expect(await store.advanceStage(expired.facts.id, move)).toEqual({ ok: false, reason: "NOT_LIVE" });
      });

      it("advanceStage with a queueScore puts the request in the queue; a move with null takes it out", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const queued = ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + SEC, queueScore: 12.5 }));
        expect(queued.request.queueScore).toBe(12.5);
        expect(await store.listQueue(100)).toEqual([id]);

        ok(await store.advanceStage(id, { fromStageIndex: 4, toStageIndex: 4, now: T0 + 2 * SEC, queueScore: null }));
        expect(await store.listQueue(100)).toEqual([]);
        expect((await requestOf(id)).queueScore).toBeNull();
      });

      it("finishRequest completes an assigned request", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor]);
        ok(await store.claimOffer(id, o!.id, advisor, T0 + SEC));

        const done = ok(await store.finishRequest(id, { to: "completed", now: T0 + 5 * MIN }));
        expect(done.duplicate).toBe(false);
        expect(done.withdrawn).toEqual([]);
        expect(done.request).toMatchObject({ status: "completed", assignedAdvisorId: advisor, updatedAt: T0 + 5 * MIN });
        expect(await store.getRequest(id)).toEqual(done.request);
        expect(await store.listLiveRequestIds()).not.toContain(id);
      });

      it("finishRequest cancels from pending, offered or assigned, withdrawing and returning open offers", async () => {
        const pending = await newRequest();
        const fromPending = ok(await store.finishRequest(pending.facts.id, { to: "cancelled", now: T0 + SEC }));
        expect(fromPending.request.status).toBe("cancelled");
        expect(fromPending.withdrawn).toEqual([]);

        const offered = await newRequest();
        const [o1, o2] = await offerTo(offered.facts.id, [uid("adv"), uid("adv")]);
        const fromOffered = ok(await store.finishRequest(offered.facts.id, { to: "cancelled", now: T0 + 2 * SEC }));
        const withdrawn = [o1, o2].map((o) => ({ ...o, outcome: "withdrawn", respondedAt: T0 + 2 * SEC }));
        expect(fromOffered.withdrawn).toEqual(withdrawn);
        expect(fromOffered.request.offers).toEqual(withdrawn);
        expect(await store.getRequest(offered.facts.id)).toEqual(fromOffered.request);

        const assigned = await newRequest();
        const advisor = uid("adv");
        const [o] = await offerTo(assigned.facts.id, [advisor]);
        ok(await store.claimOffer(assigned.facts.id, o!.id, advisor, T0 + SEC));
        expect(ok(await store.finishRequest(assigned.facts.id, { to: "cancelled", now: T0 + 3 * SEC })).request.status).toBe("cancelled");
      });

      it("finishRequest expires from pending or offered, with callbackRequested as given", async () => {
        const pending = await newRequest();
        const expired = ok(await store.finishRequest(pending.facts.id, { to: "expired", now: T0 + 5 * MIN, callbackRequested: true }));
        expect(expired.request).toMatchObject({ status: "expired", callbackRequested: true, updatedAt: T0 + 5 * MIN });

        const offered = await newRequest();
        const [o] = await offerTo(offered.facts.id, [uid("adv")]);
        const fromOffered = ok(await store.finishRequest(offered.facts.id, { to: "expired", now: T0 + 5 * MIN, callbackRequested: false }));
        expect(fromOffered.request).toMatchObject({ status: "expired", callbackRequested: false });
        expect(fromOffered.withdrawn).toEqual([{ ...o, outcome: "withdrawn", respondedAt: T0 + 5 * MIN }]);
      });

      it("finishRequest: the same end again is a duplicate without a second effect; other moves are INVALID_STATE", async () => {
        expect(await store.finishRequest(uid("req"), { to: "cancelled", now: T0 })).toMatchObject({ ok: false, reason: "NOT_FOUND" });

        const pending = await newRequest();
        const id = pending.facts.id;
        expect(await store.finishRequest(id, { to: "completed", now: T0 + SEC })).toEqual({ ok: false, reason: "INVALID_STATE", status: "pending" });

        const cancelled = ok(await store.finishRequest(id, { to: "cancelled", now: T0 + 2 * SEC }));
        const again = ok(await store.finishRequest(id, { to: "cancelled", now: T0 + 3 * SEC }));
        expect(again.duplicate).toBe(true);
        expect(again.withdrawn).toEqual([]);
        expect(again.request).toEqual(cancelled.request);
        expect(await store.finishRequest(id, { to: "completed", now: T0 + 4 * SEC })).toEqual({ ok: false, reason: "INVALID_STATE", status: "cancelled" });
        expect(await store.finishRequest(id, { to: "expired", now: T0 + 4 * SEC })).toEqual({ ok: false, reason: "INVALID_STATE", status: "cancelled" });
        expect(await store.getRequest(id)).toEqual(cancelled.request);

        const assigned = await newRequest();
        const advisor = uid("adv");
        const [o] = await offerTo(assigned.facts.id, [advisor]);
        ok(await store.claimOffer(assigned.facts.id, o!.id, advisor, T0 + SEC));
        expect(await store.finishRequest(assigned.facts.id, { to: "expired", now: T0 + 2 * SEC })).toEqual({
          ok: false,
          reason: "INVALID_STATE",
          status: "assigned",
        });
      });

      it("finishRequest takes the request out of the queue and the deadlines", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + SEC, queueScore: 1 }));
        expect(await store.listQueue(10)).toEqual([id]);
        expect(await store.getDeadline(id)).toBe(T0 + MIN);

        const ended = ok(await store.finishRequest(id, { to: "expired", now: T0 + 2 * SEC, callbackRequested: true }));
        expect(ended.request.queueScore).toBeNull();
        expect(await store.listQueue(10)).toEqual([]);
        expect(await store.getDeadline(id)).toBeNull();
        expect(await store.claimDueDeadlines(T0 + DAY, SEC, 100)).not.toContain(id);
      });

      it("reopenRequest takes an assigned request back into the funnel at stage 0, excluding its advisor; repeats and others are refused", async () => {
        expect(await store.reopenRequest(uid("req"), { advisorId: uid("adv"), now: T0 })).toEqual({ ok: false, reason: "NOT_FOUND" });

        const request = await newRequest();
        const id = request.facts.id;
        const [leaving, other] = [uid("adv"), uid("adv")];
        ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 2, now: T0 + SEC, queueScore: null }));
        const [o] = await offerTo(id, [leaving], { stageIndex: 2 });
        expect(await store.reopenRequest(id, { advisorId: leaving, now: T0 + 2 * SEC })).toEqual({ ok: false, reason: "NOT_YOURS" }); // offered, not assigned
        const claimed = ok(await store.claimOffer(id, o!.id, leaving, T0 + 3 * SEC));
        expect(await store.reopenRequest(id, { advisorId: other, now: T0 + 4 * SEC })).toEqual({ ok: false, reason: "NOT_YOURS" });

        const reopened = ok(await store.reopenRequest(id, { advisorId: leaving, now: T0 + 5 * SEC }));
        // The leaving advisor is not registered here: no slot to free.
        expect(reopened.advisor).toBeNull();
        expect(reopened.journalId).toBeNull();
        expect(await store.getDeadline(id)).toBe(T0 + MIN);
        expect(reopened.request).toEqual({
          ...claimed.request,
          status: "pending",
          assignedAdvisorId: null,
          excluded: [leaving],
          stageIndex: 0,
          stageStartedAt: T0 + 5 * SEC,
          offersInStage: 0,
          queueScore: null,
          updatedAt: T0 + 5 * SEC,
          rev: claimed.request.rev + 1,
        });
        expect(reopened.request.offers.map((x) => x.outcome)).toEqual(["accepted"]);
        expect(await store.getRequest(id)).toEqual(reopened.request);
        expect(await store.listLiveRequestIds()).toContain(id);
        expect(await store.reopenRequest(id, { advisorId: leaving, now: T0 + 6 * SEC })).toEqual({ ok: false, reason: "NOT_YOURS" });
        expect(await store.addOffers(id, 0, [offer(id, leaving, { stageIndex: 0 })], T0 + 7 * SEC)).toMatchObject({ ok: false, reason: "EXCLUDED" });

        const completed = await newRequest();
        const [c] = await offerTo(completed.facts.id, [leaving]);
        ok(await store.claimOffer(completed.facts.id, c!.id, leaving, T0 + SEC));
        ok(await store.finishRequest(completed.facts.id, { to: "completed", now: T0 + 2 * SEC }));
        expect(await store.reopenRequest(completed.facts.id, { advisorId: leaving, now: T0 + 3 * SEC })).toEqual({ ok: false, reason: "NOT_YOURS" });
      });

      it("reopenRequest frees the advisor's slot and sets the deadline in the same step", async () => {
        const leaving = await online({ maxConcurrent: 1 });
        const id = await assignedTo(leaving.profile.id);
        expect(await store.getDeadline(id)).toBeNull();

        const reopened = ok(await store.reopenRequest(id, { advisorId: leaving.profile.id, now: T0 + 2 * SEC, deadline: T0 + 2 * SEC }));
        expect(reopened.advisor).toMatchObject({ assignments: [], supply: { active: 0 } });
        expect(await advisorOf(leaving.profile.id)).toEqual(reopened.advisor);
        expect(await store.getDeadline(id)).toBe(T0 + 2 * SEC);
        expect(await candidateIds()).toContain(leaving.profile.id);
      });

      it("advanceStage answers the request moved, with no journal entry from a store asked for none", async () => {
        const id = (await newRequest()).facts.id;
        const moved = ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 1, now: T0 + SEC, queueScore: null }, null));
        expect(moved.journalId).toBeNull();
        expect(moved.request.stageIndex).toBe(1);
      });

      it("ended requests still give late answers a precise reason ten minutes on", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(id, [advisor]);
        const ended = ok(await store.finishRequest(id, { to: "cancelled", now: T0 + SEC }));

        const late = T0 + SEC + 10 * MIN - 1;
        expect(await store.claimOffer(id, o!.id, advisor, late)).toEqual({ ok: false, reason: "NOT_LIVE" });
        expect(await store.closeOffer(id, o!.id, "declined", late, advisor)).toMatchObject({ ok: false, reason: "ALREADY_CLOSED" });
        expect(await store.getRequest(id)).toEqual(ended.request);
      });
    });

    // ==== timers and queue ======================================================================

    describe("acceptOffer: a whole accept in one step", () => {
      const accept = (requestId: string, offerId: string, advisorId: string, now: number) =>
        store.acceptOffer({ requestId, language: "en", offerId, advisorId, now, presenceTtlMs: TTL }, null);

      it("claims the request, converts the advisor's hold, frees the superseded push holds, folds the answer and clears the deadline", async () => {
        const [a, b, c] = [await online({ maxConcurrent: 1 }), await online(), await online()];
        const request = await newRequest();
        const id = request.facts.id;
        const [toA, toB] = await offerTo(id, [a.profile.id, b.profile.id], { kind: "push" });
        const [toC] = await offerTo(id, [c.profile.id], { kind: "broadcast" });
        ok(await store.holdPushSlot(a.profile.id, request.facts, toA!.id, T0, TTL));
        ok(await store.holdPushSlot(b.profile.id, request.facts, toB!.id, T0, TTL));

        const result = ok(await accept(id, toA!.id, a.profile.id, T0 + 5 * SEC));
        expect(result.duplicate).toBe(false);
        expect(result.journalId).toBeNull();
        expect(result.offer).toEqual({ ...toA, outcome: "accepted", respondedAt: T0 + 5 * SEC });
        expect(result.superseded).toEqual([
          { ...toB, outcome: "withdrawn", respondedAt: T0 + 5 * SEC },
          { ...toC, outcome: "lost_race", respondedAt: T0 + 5 * SEC },
        ]);
        expect(result.request).toMatchObject({ status: "assigned", assignedAdvisorId: a.profile.id, queueScore: null });
        expect(await requestOf(id)).toEqual(result.request);
        expect(await store.getDeadline(id)).toBeNull();

        const stats = updateResponsiveness(a.stats, { accepted: true, latencyMs: 5 * SEC });
        expect(result.advisor).toMatchObject({ assignments: [id], pushHolds: [], supply: { active: 1, pendingPush: 0 } });
        expect(result.advisor.stats).toEqual({ ...stats, lastAssignedAt: T0 + 5 * SEC });
        expect(await advisorOf(a.profile.id)).toEqual(result.advisor);
        expect((await advisorOf(b.profile.id)).pushHolds).toEqual([]);
        expect((await advisorOf(c.profile.id)).stats).toEqual(c.stats);
      });

      it("takes the request out of the queue", async () => {
        const a = await online();
        const id = (await newRequest()).facts.id;
        ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + SEC, queueScore: 100 }));
        const [o] = await offerTo(id, [a.profile.id], { stageIndex: 4, kind: "broadcast" }, T0 + 2 * SEC);
        expect(await store.listQueue(100)).toContain(id);
        ok(await accept(id, o!.id, a.profile.id, T0 + 3 * SEC));
        expect(await store.listQueue(100)).not.toContain(id);
      });

      it("refused by the advisor, changes nothing: the request stays open and no slot is taken", async () => {
        const full = await online({ maxConcurrent: 1 });
        ok(await store.takeAssignment(full.profile.id, facts(), uid("off"), T0, TTL));
        const before = await advisorOf(full.profile.id);
        const request = await newRequest();
        const id = request.facts.id;
        const [o] = await offerTo(id, [full.profile.id], { kind: "broadcast" });
        const ghost = uid("adv");
        const [toGhost] = await offerTo(id, [ghost], { kind: "broadcast" });
        const open = await requestOf(id);

        expectRefused(await accept(id, o!.id, full.profile.id, T0 + SEC), "CAPACITY");
        expectRefused(await accept(id, toGhost!.id, ghost, T0 + SEC), "UNKNOWN_ADVISOR");
        const away = await online();
        const [toAway] = await offerTo(id, [away.profile.id], { kind: "broadcast" });
        ok(await store.setPresence(away.profile.id, "away", T0 + SEC));
        const awayBefore = await advisorOf(away.profile.id);
        expect(await accept(id, toAway!.id, away.profile.id, T0 + 2 * SEC)).toMatchObject({ ok: false, reason: "PRESENCE", unheardSinceRestore: false });
        // Restored by a rebuild and not heard from since (heartbeatAt 0): the refusal says so.
        const restored = await online();
        const [toRestored] = await offerTo(id, [restored.profile.id], { kind: "broadcast" });
        await store.restoreAdvisor({ ...restored, supply: { ...restored.supply, presence: "offline", heartbeatAt: 0 } });
        expect(await accept(id, toRestored!.id, restored.profile.id, T0 + 2 * SEC)).toMatchObject({
          ok: false,
          reason: "PRESENCE",
          unheardSinceRestore: true,
        });

        expect(await advisorOf(full.profile.id)).toEqual(before);
        expect(await advisorOf(away.profile.id)).toEqual(awayBefore);
        const after = await requestOf(id);
        expect(after.status).toBe("offered");
        expect(after.offers.filter((x) => x.outcome === null).map((x) => x.id)).toEqual([...open.offers.map((x) => x.id), toAway!.id, toRestored!.id]);
        expect(await store.getDeadline(id)).toBe(T0 + MIN);
      });

      it("checks the request first, in claimOffer's order; the winner's repeat is a duplicate without a second effect", async () => {
        const [a, b, c] = [await online(), await online(), await online()];
        const id = (await newRequest()).facts.id;
        const [toA, toB, toC] = await offerTo(id, [a.profile.id, b.profile.id, c.profile.id], { kind: "broadcast" });

        expectRefused(await accept(uid("req"), toA!.id, a.profile.id, T0 + SEC), "NOT_FOUND");
        expectRefused(await accept(id, uid("off"), a.profile.id, T0 + SEC), "NOT_FOUND");
        expectRefused(await accept(id, toA!.id, b.profile.id, T0 + SEC), "NOT_YOURS");
        ok(await store.closeOffer(id, toC!.id, "declined", T0 + SEC, c.profile.id));
        expectRefused(await accept(id, toC!.id, c.profile.id, T0 + 2 * SEC), "OFFER_CLOSED");
        expectRefused(await accept(id, toB!.id, b.profile.id, toB!.expiresAt), "OFFER_EXPIRED");

        const won = ok(await accept(id, toA!.id, a.profile.id, T0 + 3 * SEC));
        const again = ok(await accept(id, toA!.id, a.profile.id, T0 + 4 * SEC));
        expect(again.duplicate).toBe(true);
        expect(again.request).toEqual(won.request);
        expect(again.advisor).toEqual(won.advisor);
        expect(await advisorOf(a.profile.id)).toEqual(won.advisor);
        expectRefused(await accept(id, toB!.id, b.profile.id, T0 + 4 * SEC), "ALREADY_TAKEN");
        ok(await store.finishRequest(id, { to: "cancelled", now: T0 + 5 * SEC }));
        expectRefused(await accept(id, toA!.id, a.profile.id, T0 + 6 * SEC), "NOT_LIVE");
      });

      it("never assigns twice or exceeds capacity when many advisors accept at once", async () => {
        const advisors = await Promise.all(Array.from({ length: 12 }, () => online({ maxConcurrent: 1 })));
        const requests = await Promise.all(Array.from({ length: 4 }, () => newRequest()));
        const offers = await Promise.all(
          requests.map((r) =>
            offerTo(
              r.facts.id,
              advisors.map((x) => x.profile.id),
              { kind: "broadcast" },
            ),
          ),
        );
        const results = await Promise.all(
          requests.flatMap((r, i) =>
            offers[i]!.map((o) => accept(r.facts.id, o.id, o.advisorId, T0 + SEC).then((result) => ({ result, requestId: r.facts.id }))),
          ),
        );
        const winners = results.filter(({ result }) => result.ok);
        expect(winners).toHaveLength(requests.length);
        expect(new Set(winners.map((w) => w.requestId)).size).toBe(requests.length);
        for (const advisor of advisors) {
          const state = await advisorOf(advisor.profile.id);
          expect(state.assignments.length).toBeLessThanOrEqual(1);
        }
        for (const r of requests) {
          const state = await requestOf(r.facts.id);
          expect(state.offers.filter((o) => o.outcome === "accepted")).toHaveLength(1);
          expect(state.assignedAdvisorId).toBe(state.offers.find((o) => o.outcome === "accepted")!.advisorId);
        }
      });
    });

    describe("endRequest: a request's end in one step", () => {
      const end = (requestId: string, to: "completed" | "cancelled" | "expired", now: number, extra: { assignee?: string; callbackRequested?: boolean } = {}) =>
        store.endRequest({ requestId, to, now, ...extra }, null);

      it("cancels an offered request: withdraws its offers, frees their push holds, leaves the deadlines, the queue and the live list", async () => {
        const [a, b] = [await online(), await online()];
        const request = await newRequest();
        const id = request.facts.id;
        ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 4, now: T0, queueScore: 5 }));
        const [toA] = await offerTo(id, [a.profile.id], { kind: "push", stageIndex: 4 });
        const [toB] = await offerTo(id, [b.profile.id], { kind: "broadcast", stageIndex: 4 });
        ok(await store.holdPushSlot(a.profile.id, request.facts, toA!.id, T0, TTL));

        const result = ok(await end(id, "cancelled", T0 + SEC));
        expect(result.duplicate).toBe(false);
        expect(result.journalId).toBeNull();
        expect(result.withdrawn).toEqual([
          { ...toA, outcome: "withdrawn", respondedAt: T0 + SEC },
          { ...toB, outcome: "withdrawn", respondedAt: T0 + SEC },
        ]);
        expect(result.request).toMatchObject({ status: "cancelled", queueScore: null });
        expect(await requestOf(id)).toEqual(result.request);
        expect(result.freed.map((x) => x.profile.id)).toEqual([a.profile.id]);
        expect(await advisorOf(a.profile.id)).toEqual(result.freed[0]);
        expect(result.freed[0]!.pushHolds).toEqual([]);
        expect(await store.getDeadline(id)).toBeNull();
        expect(await store.listQueue(100)).not.toContain(id);
        expect(await store.listLiveRequestIds()).not.toContain(id);
      });

      it("completes an assigned request for its assignee only, freeing the slot; the same end again is a duplicate", async () => {
        const a = await online({ maxConcurrent: 1 });
        const id = await assignedTo(a.profile.id);
        expect(await candidateIds()).not.toContain(a.profile.id);

        expectRefused(await end(id, "completed", T0 + 2 * SEC, { assignee: uid("adv") }), "NOT_YOURS");
        expect((await requestOf(id)).status).toBe("assigned");
        const done = ok(await end(id, "completed", T0 + 3 * SEC, { assignee: a.profile.id }));
        expect(done.request).toMatchObject({ status: "completed", assignedAdvisorId: a.profile.id });
        expect(done.withdrawn).toEqual([]);
        expect(done.freed).toHaveLength(1);
        expect(done.freed[0]).toMatchObject({ assignments: [], supply: { active: 0 } });
        expect(await advisorOf(a.profile.id)).toEqual(done.freed[0]);
        expect(await candidateIds()).toContain(a.profile.id);

        const again = ok(await end(id, "completed", T0 + 4 * SEC, { assignee: a.profile.id }));
        expect(again).toMatchObject({ duplicate: true, freed: [], withdrawn: [] });
        expect(await requestOf(id)).toEqual(done.request);
        expect(await advisorOf(a.profile.id)).toEqual(done.freed[0]);
      });

      it("expires with the callback as given; refuses unknown requests and moves its state does not allow", async () => {
        const id = (await newRequest()).facts.id;
        expectRefused(await end(uid("req"), "cancelled", T0), "NOT_FOUND");
        expect(await end(id, "completed", T0 + SEC)).toEqual({ ok: false, reason: "INVALID_STATE", status: "pending" });
        const expired = ok(await end(id, "expired", T0 + 2 * SEC, { callbackRequested: true }));
        expect(expired.request).toMatchObject({ status: "expired", callbackRequested: true });
        expect(expired.freed).toEqual([]);
        expect(await end(id, "cancelled", T0 + 3 * SEC)).toEqual({ ok: false, reason: "INVALID_STATE", status: "expired" });
      });
    });

    describe("resolveOffer: an offer closed in one step", () => {
      it("a decline closes the offer, excludes the advisor, frees the hold, counts as not accepted and makes the request due", async () => {
        const a = await online();
        const request = await newRequest();
        const id = request.facts.id;
        const [o] = await offerTo(id, [a.profile.id], { kind: "push" });
        ok(await store.holdPushSlot(a.profile.id, request.facts, o!.id, T0, TTL));

        const result = ok(
          await store.resolveOffer({ requestId: id, offerId: o!.id, outcome: "declined", now: T0 + SEC, advisorId: a.profile.id, deadline: T0 + SEC }, null),
        );
        expect(result.journalId).toBeNull();
        expect(result.offer).toEqual({ ...o, outcome: "declined", respondedAt: T0 + SEC });
        expect(result.request).toMatchObject({ status: "pending", excluded: [a.profile.id] });
        expect(await requestOf(id)).toEqual(result.request);
        expect(await store.getDeadline(id)).toBe(T0 + SEC);
        const after = await advisorOf(a.profile.id);
        expect(after.pushHolds).toEqual([]);
        expect(after.stats).toEqual(updateResponsiveness(a.stats, { accepted: false }));
      });

      it("a withdrawal frees the hold, leaves the answer statistics and the deadline alone, and does not exclude", async () => {
        const a = await online();
        const request = await newRequest();
        const id = request.facts.id;
        const [o] = await offerTo(id, [a.profile.id], { kind: "push" });
        ok(await store.holdPushSlot(a.profile.id, request.facts, o!.id, T0, TTL));
        const result = ok(await store.resolveOffer({ requestId: id, offerId: o!.id, outcome: "withdrawn", now: T0 + SEC }, null));
        expect(result.request.excluded).toEqual([]);
        const after = await advisorOf(a.profile.id);
        expect(after.pushHolds).toEqual([]);
        expect(after.stats).toEqual(a.stats);
        expect(await store.getDeadline(id)).toBe(T0 + MIN);
      });

      it("refuses as closeOffer does, changing nothing: NOT_FOUND, NOT_YOURS, NOT_DUE and ALREADY_CLOSED with the offer", async () => {
        const a = await online();
        const request = await newRequest();
        const id = request.facts.id;
        const [o] = await offerTo(id, [a.profile.id], { kind: "push" });
        ok(await store.holdPushSlot(a.profile.id, request.facts, o!.id, T0, TTL));
        const held = await advisorOf(a.profile.id);

        expectRefused(await store.resolveOffer({ requestId: uid("req"), offerId: o!.id, outcome: "declined", now: T0 }, null), "NOT_FOUND");
        expectRefused(await store.resolveOffer({ requestId: id, offerId: o!.id, outcome: "declined", now: T0, advisorId: uid("adv") }, null), "NOT_YOURS");
        expect(await store.resolveOffer({ requestId: id, offerId: o!.id, outcome: "timed_out", now: o!.expiresAt - 1, deadline: T0 }, null)).toEqual({
          ok: false,
          reason: "NOT_DUE",
          offer: o,
        });
        expect(await advisorOf(a.profile.id)).toEqual(held);
        expect(await store.getDeadline(id)).toBe(T0 + MIN);

        const timedOut = ok(await store.resolveOffer({ requestId: id, offerId: o!.id, outcome: "timed_out", now: o!.expiresAt }, null));
        expect(timedOut.request.excluded).toEqual([a.profile.id]);
        expect(await store.resolveOffer({ requestId: id, offerId: o!.id, outcome: "declined", now: o!.expiresAt + 1 }, null)).toEqual({
          ok: false,
          reason: "ALREADY_CLOSED",
          offer: timedOut.offer,
        });
        expect((await advisorOf(a.profile.id)).stats).toEqual(updateResponsiveness(a.stats, { accepted: false }));
      });
    });

    describe("makeOffers: an offer round in one step", () => {
      const round = (
        request: LiveRequest,
        kind: "push" | "broadcast",
        advisorIds: string[],
        extra: { count?: number; stageIndex?: number; now?: number } = {},
      ) =>
        store.makeOffers(
          {
            requestId: request.facts.id,
            stageIndex: extra.stageIndex ?? request.stageIndex,
            kind,
            candidates: advisorIds.map((advisorId) => ({ advisorId, offerId: uid("off") })),
            count: extra.count ?? 1,
            now: extra.now ?? T0 + SEC,
            expiresAt: (extra.now ?? T0 + SEC) + OFFER_TTL,
            presenceTtlMs: TTL,
            language: request.facts.language,
          },
          null,
        );

      it("a push walks down the ranking past ineligible advisors, holds the first eligible one's slot, records the offer and waits on its expiry", async () => {
        const away = await online();
        ok(await store.setPresence(away.profile.id, "away", T0));
        const full = await online({ maxConcurrent: 1 });
        ok(await store.takeAssignment(full.profile.id, facts(), uid("off"), T0, TTL));
        const [first, second] = [await online(), await online()];
        const request = await newRequest();

        const result = ok(await round(request, "push", [uid("adv"), away.profile.id, full.profile.id, first.profile.id, second.profile.id]));
        expect(result.journalId).toBeNull();
        expect(result.offers).toHaveLength(1);
        const [{ offer: made, eligibility }] = result.offers as [{ offer: OfferState; eligibility: unknown }];
        expect(made).toMatchObject({
          advisorId: first.profile.id,
          kind: "push",
          stageIndex: 0,
          sentAt: T0 + SEC,
          expiresAt: T0 + SEC + OFFER_TTL,
          outcome: null,
          respondedAt: null,
        });
        expect(eligibility).toEqual(expectedSnapshot(first, request.facts, T0 + SEC, "push"));
        expect(result.request).toMatchObject({ status: "offered", offersInStage: 1 });
        expect(result.request.offers).toEqual([made]);
        expect(await requestOf(request.facts.id)).toEqual(result.request);
        expect((await advisorOf(first.profile.id)).pushHolds).toEqual([made.id]);
        expect((await advisorOf(second.profile.id)).pushHolds).toEqual([]);
        expect(await store.getDeadline(request.facts.id)).toBe(T0 + SEC + OFFER_TTL);
      });

      it("a broadcast re-checks the top advisors up to count, holds nothing, and skips excluded advisors and those with an open offer", async () => {
        const [a, b, c, d] = [await online(), await online(), await online(), await online()];
        const request = await newRequest();
        const id = request.facts.id;
        const [toA] = await offerTo(id, [a.profile.id], { kind: "broadcast" });
        ok(await store.closeOffer(id, toA!.id, "declined", T0, a.profile.id));
        await offerTo(id, [b.profile.id], { kind: "broadcast" });
        const current = await requestOf(id);

        const result = ok(await round(current, "broadcast", [a.profile.id, b.profile.id, c.profile.id, d.profile.id], { count: 1 }));
        expect(result.offers.map((o) => o.offer.advisorId)).toEqual([c.profile.id]);
        expect(result.request.offersInStage).toBe(3);
        for (const x of [a, b, c, d]) expect((await advisorOf(x.profile.id)).pushHolds).toEqual([]);
        const two = ok(await round(result.request, "broadcast", [c.profile.id, d.profile.id, uid("adv")], { count: 5 }));
        expect(two.offers.map((o) => o.offer.advisorId)).toEqual([d.profile.id]);
      });

      it("a broadcast takes the judged snapshots only while the advisors are unchanged: one gone away and one full since the read get no offer", async () => {
        const [same, gone] = [await online(), await online()];
        const full = await online({ maxConcurrent: 1 });
        const request = await newRequest();
        const now = T0 + SEC;
        // Judged as the engine does: on the states the candidate lookup read.
        const read = await store.findCandidates(query({ language: "en", minRisk: request.facts.riskLevel }));
        const judged = (advisorId: string) => {
          const state = read.find((candidate) => candidate.profile.id === advisorId)!;
          return { state, eligibility: expectedSnapshot(state, request.facts, now, "broadcast") };
        };
        const candidates = [same, gone, full].map((a) => ({ advisorId: a.profile.id, offerId: uid("off"), judged: judged(a.profile.id) }));
        ok(await store.setPresence(gone.profile.id, "away", T0 + 1));
        await assignedTo(full.profile.id);

        const input = {
          requestId: request.facts.id,
          stageIndex: 0,
          kind: "broadcast" as const,
          count: 3,
          now,
          expiresAt: now + OFFER_TTL,
          presenceTtlMs: TTL,
          language: "en",
        };
        const result = ok(await store.makeOffers({ ...input, candidates }, null));
        expect(result.offers.map((o) => o.offer.advisorId)).toEqual([same.profile.id]);
        expect(result.offers[0]!.eligibility).toEqual(candidates[0]!.judged.eligibility);
      });

      it("nobody eligible changes nothing; a moved, ended or unknown request is refused", async () => {
        const away = await online();
        ok(await store.setPresence(away.profile.id, "away", T0));
        const request = await newRequest();
        const none = ok(await round(request, "push", [away.profile.id, uid("adv")]));
        expect(none.offers).toEqual([]);
        expect(await requestOf(request.facts.id)).toEqual(request);
        expect(await store.getDeadline(request.facts.id)).toBe(T0 + MIN);

        const a = await online();
        expectRefused(await round(request, "push", [a.profile.id], { stageIndex: 1 }), "STAGE_CHANGED");
        expectRefused(await round({ ...request, facts: { ...request.facts, id: uid("req") } }, "push", [a.profile.id]), "NOT_FOUND");
        ok(await store.finishRequest(request.facts.id, { to: "cancelled", now: T0 + SEC }));
        expectRefused(await round(request, "push", [a.profile.id]), "NOT_LIVE");
        expect((await advisorOf(a.profile.id)).pushHolds).toEqual([]);
      });
    });

    describe("deadlines and the queue", () => {
      it("setDeadline sets and moves the single deadline; getDeadline gives null without one", async () => {
        const id = (await newRequest()).facts.id;
        expect(await store.getDeadline(id)).toBe(T0 + MIN);
        await store.setDeadline(id, T0 + 2 * MIN);
        expect(await store.getDeadline(id)).toBe(T0 + 2 * MIN);
        await store.setDeadline(id, T0 + 30 * SEC);
        expect(await store.getDeadline(id)).toBe(T0 + 30 * SEC);
        expect(await store.getDeadline(uid("req"))).toBeNull();
        // Only one deadline per request: the earlier one is gone.
        expect(await store.claimDueDeadlines(T0 + 30 * SEC, SEC, 10)).toEqual([id]);
        expect(await store.claimDueDeadlines(T0 + 30 * SEC, SEC, 10)).toEqual([]);
      });

      it("setDeadlineIf moves the deadline only while the request is at the given revision", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        expect(await store.setDeadlineIf(id, T0 + 5 * SEC, request.rev)).toBe(true);
        expect(await store.getDeadline(id)).toBe(T0 + 5 * SEC);
        // Another writer moved the request on (an offer round set the deadline to its expiry).
        await offerTo(id, [uid("adv")]);
        await store.setDeadline(id, T0 + OFFER_TTL);
        expect(await store.setDeadlineIf(id, T0 + 10 * MIN, request.rev)).toBe(false);
        expect(await store.getDeadline(id)).toBe(T0 + OFFER_TTL);
        expect(await store.setDeadlineIf(id, T0 + 2 * MIN, (await requestOf(id)).rev)).toBe(true);
        expect(await store.getDeadline(id)).toBe(T0 + 2 * MIN);
        expect(await store.setDeadlineIf(uid("req"), T0, 1)).toBe(false);
      });

      it("clearDeadline removes the deadline so it never fires, and is idempotent", async () => {
        const id = (await newRequest()).facts.id;
        await store.clearDeadline(id);
        await store.clearDeadline(id);
        expect(await store.getDeadline(id)).toBeNull();
        expect(await store.claimDueDeadlines(T0 + 10 * MIN, SEC, 10)).not.toContain(id);
        expect((await store.getRequest(id))?.status).toBe("pending");
      });

      it("claimDueDeadlines leases due deadlines (deadline <= now) until now + leaseMs", async () => {
        const [r1, r2, r3] = [await newRequest(), await newRequest(), await newRequest()].map((r) => r.facts.id);
        await store.setDeadline(r1!, T0);
        await store.setDeadline(r2!, T0 + 10 * SEC);
        await store.setDeadline(r3!, T0 + MIN);

        const now = T0 + 10 * SEC;
        expect(sorted(await store.claimDueDeadlines(now, 5 * SEC, 10))).toEqual(sorted([r1!, r2!]));
        expect(await store.getDeadline(r1!)).toBe(now + 5 * SEC);
        expect(await store.getDeadline(r2!)).toBe(now + 5 * SEC);
        expect(await store.getDeadline(r3!)).toBe(T0 + MIN);

        // Within the lease nobody gets them again; once it lapses (a dead sweeper) they fire again.
        expect(await store.claimDueDeadlines(now, 5 * SEC, 10)).toEqual([]);
        expect(await store.claimDueDeadlines(now + 5 * SEC - 1, 5 * SEC, 10)).toEqual([]);
        expect(sorted(await store.claimDueDeadlines(now + 5 * SEC, 5 * SEC, 10))).toEqual(sorted([r1!, r2!]));
      });

      it("claimDueDeadlines hands out at most limit ids and each due id once per lease", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          const id = (await newRequest()).facts.id;
          await store.setDeadline(id, T0 + i);
          ids.push(id);
        }
        const batches = [
          await store.claimDueDeadlines(T0 + SEC, MIN, 2),
          await store.claimDueDeadlines(T0 + SEC, MIN, 2),
          await store.claimDueDeadlines(T0 + SEC, MIN, 2),
        ];
        expect(batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
        expect(sorted(batches.flat())).toEqual(sorted(ids));
        expect(await store.claimDueDeadlines(T0 + SEC, MIN, 2)).toEqual([]);
      });

      it("listQueue orders queued requests by score, then id, stops at limit, and skips assigned and ended ones", async () => {
        const base = uid("req");
        const queue = async (suffix: string, score: number) => {
          const request = await newRequest({ id: `${base}_${suffix}` });
          ok(await store.advanceStage(request.facts.id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + SEC, queueScore: score }));
          return request.facts.id;
        };
        const a = await queue("a", 5);
        const b = await queue("b", 1);
        const c = await queue("c", 5);
        const d = await queue("d", -3);
        const assigned = await queue("e", 0);
        const ended = await queue("f", 0);
        await newRequest(); // never queued

        const advisor = uid("adv");
        const [o] = await offerTo(assigned, [advisor], { stageIndex: 4 }, T0 + 2 * SEC);
        ok(await store.claimOffer(assigned, o!.id, advisor, T0 + 3 * SEC));
        ok(await store.finishRequest(ended, { to: "cancelled", now: T0 + 3 * SEC }));

        expect(await store.listQueue(10)).toEqual([d, b, a, c]);
        expect(await store.listQueue(2)).toEqual([d, b]);
        expect(await store.listQueue(0)).toEqual([]);
      });

      it("listLiveRequestIds lists every request that has not ended", async () => {
        const pending = (await newRequest()).facts.id;
        const offered = (await newRequest()).facts.id;
        await offerTo(offered, [uid("adv")]);
        const assigned = (await newRequest()).facts.id;
        const advisor = uid("adv");
        const [o] = await offerTo(assigned, [advisor]);
        ok(await store.claimOffer(assigned, o!.id, advisor, T0 + SEC));
        const completed = (await newRequest()).facts.id;
        const [o2] = await offerTo(completed, [advisor]);
        ok(await store.claimOffer(completed, o2!.id, advisor, T0 + SEC));
        ok(await store.finishRequest(completed, { to: "completed", now: T0 + 2 * SEC }));
        const cancelled = (await newRequest()).facts.id;
        ok(await store.finishRequest(cancelled, { to: "cancelled", now: T0 + 2 * SEC }));
        const expired = (await newRequest()).facts.id;
        ok(await store.finishRequest(expired, { to: "expired", now: T0 + 2 * SEC }));

        expect(sorted(await store.listLiveRequestIds())).toEqual(sorted([pending, offered, assigned]));
      });
    });

    // ==== rebuild ===============================================================================

    describe("rebuild", () => {
      it("reset removes advisors, requests, deadlines, the queue and the candidate index", async () => {
        const a = await online();
        const request = await newRequest();
        ok(await store.advanceStage(request.facts.id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + SEC, queueScore: 1 }));
        expect(await candidateIds()).toEqual([a.profile.id]);

        await store.reset();
        expect(await store.getAdvisor(a.profile.id)).toBeNull();
        expect(await store.getRequest(request.facts.id)).toBeNull();
        expect(await store.getDeadline(request.facts.id)).toBeNull();
        expect(await store.listQueue(10)).toEqual([]);
        expect(await store.listLiveRequestIds()).toEqual([]);
        expect(await candidateIds()).toEqual([]);

        // The store stays usable once rebuilt (a new generation opens the fence).
        await store.setGeneration("rebuilt");
        expect(await store.claimDueDeadlines(T0 + DAY, SEC, 10)).toEqual([]);
        const again = await online();
        expect(await candidateIds()).toEqual([again.profile.id]);
      });

      it("restoreAdvisor writes the state exactly as given and re-indexes it", async () => {
        const p = profile({ maxConcurrent: 2 });
        const [assignment, hold] = [uid("req"), uid("off")];
        const state: AdvisorState = {
          profile: p,
          supply: { presence: "available", heartbeatAt: T0, active: 1, pendingPush: 1 },
          stats: { ratingSum: 18, ratingCount: 4, latencyEwmaMs: 3_000, acceptEwma: 0.75, lastAssignedAt: T0 - 5 * MIN, incentive: 0.3 },
          assignments: [assignment],
          pushHolds: [hold],
        };
        await store.restoreAdvisor(state);
        expect(await store.getAdvisor(p.id)).toEqual(state);
        expect(await candidateIds()).toEqual([p.id]);

        // The restored counters are live: 1 assignment + 1 hold fill maxConcurrent 2.
        expectRefused(await store.holdPushSlot(p.id, facts(), uid("off"), T0 + SEC, TTL), "CAPACITY");
        expect((await store.releasePushHold(p.id, hold))?.supply.pendingPush).toBe(0);
        expect((await store.releaseAssignment(p.id, assignment))?.supply.active).toBe(0);

        // Restoring over an existing advisor replaces it, index included.
        const offline: AdvisorState = { ...state, supply: { ...state.supply, presence: "offline" } };
        await store.restoreAdvisor(offline);
        expect(await store.getAdvisor(p.id)).toEqual(offline);
        expect(await candidateIds()).toEqual([]);
      });

      it("restoreRequest round-trips a request with its deadline and queue membership", async () => {
        const request = await newRequest();
        const id = request.facts.id;
        const [declined, open] = [uid("adv"), uid("adv")];
        const [o1] = await offerTo(id, [declined]);
        ok(await store.closeOffer(id, o1!.id, "declined", T0 + SEC, declined));
        ok(await store.advanceStage(id, { fromStageIndex: 0, toStageIndex: 4, now: T0 + 2 * SEC, queueScore: 42 }));
        const [o2] = await offerTo(id, [open], { stageIndex: 4, kind: "broadcast" }, T0 + 3 * SEC);
        await store.setDeadline(id, T0 + 3 * MIN);
        const saved = await requestOf(id);
        const deadline = await store.getDeadline(id);

        await store.reset();
        expect(await store.getRequest(id)).toBeNull();
        await store.restoreRequest(saved, deadline);
        await store.setGeneration("rebuilt");

        expect(await store.getRequest(id)).toEqual(saved);
        expect(await store.getDeadline(id)).toBe(T0 + 3 * MIN);
        expect(await store.listQueue(10)).toEqual([id]);
        expect(await store.listLiveRequestIds()).toEqual([id]);
        // It carries on from where it was: exclusion kept, the open offer claimable.
        expect(await store.addOffers(id, 4, [offer(id, declined, { stageIndex: 4 })], T0 + 4 * SEC)).toEqual({ ok: false, reason: "EXCLUDED" });
        ok(await store.claimOffer(id, o2!.id, open, T0 + 4 * SEC));
        expect(await store.listQueue(10)).toEqual([]);
      });

      it("restoreRequest with a null deadline has none, and an ended request is neither live nor queued", async () => {
        const live = await newRequest();
        const restored: LiveRequest = { ...live, stageIndex: 2, updatedAt: T0 + SEC };
        await store.restoreRequest(restored, null);
        expect(await store.getRequest(live.facts.id)).toEqual(restored);
        expect(await store.getDeadline(live.facts.id)).toBeNull();

        const ended: LiveRequest = { ...(await newRequest()), status: "cancelled", queueScore: 7, updatedAt: T0 + SEC };
        await store.restoreRequest(ended, T0 + MIN);
        expect(await store.getRequest(ended.facts.id)).toEqual(ended);
        expect(await store.getDeadline(ended.facts.id)).toBe(T0 + MIN);
        expect(await store.listLiveRequestIds()).not.toContain(ended.facts.id);
        expect(await store.listQueue(10)).not.toContain(ended.facts.id);

        const queued: LiveRequest = { ...(await newRequest()), stageIndex: 4, queueScore: 3 };
        await store.restoreRequest(queued, null);
        expect(await store.listQueue(10)).toEqual([queued.facts.id]);
      });
    });

    // ==== presence sweeping ======================================================================

    describe("presence expiry and the available count", () => {
      /** A registered advisor with `presence` and a heartbeat at `at`. */
      async function withPresence(presence: "available" | "away" | "offline", at: number, overrides: Partial<AdvisorProfile> = {}): Promise<string> {
        const p = profile(overrides);
        await store.upsertAdvisor(p, at);
        ok(await store.setPresence(p.id, presence, at));
        return p.id;
      }

      it("findLapsedAdvisors: not offline and heartbeatAt < heartbeatBefore, oldest first, ties by id, up to limit", async () => {
        const cut = T0 + 60 * SEC;
        const oldest = await withPresence("available", T0);
        const [tieA, tieB] = sorted([await withPresence("available", T0 + SEC), await withPresence("away", T0 + SEC)]);
        const away = await withPresence("away", T0 + 2 * SEC);
        await withPresence("available", cut); // at the cut-off: not lapsed
        await withPresence("available", cut + SEC); // fresh
        await withPresence("offline", T0); // offline: nothing to expire
        await store.upsertAdvisor(profile(), T0); // registered, never seen: offline

        expect(await store.findLapsedAdvisors(cut, 10)).toEqual([oldest, tieA, tieB, away]);
        expect(await store.findLapsedAdvisors(cut, 2)).toEqual([oldest, tieA]);
        expect(await store.findLapsedAdvisors(T0, 10)).toEqual([]);
        expect(await store.findLapsedAdvisors(cut, 0)).toEqual([]);
      });

      it("findLapsedAdvisors follows heartbeats and presence changes", async () => {
        const cut = T0 + 60 * SEC;
        const a = await withPresence("available", T0);
        const b = await withPresence("available", T0 + SEC);
        expect(await store.findLapsedAdvisors(cut, 10)).toEqual([a, b]);
        ok(await store.setPresence(a, "available", cut + SEC)); // a heartbeat
        ok(await store.setPresence(b, "offline", T0 + 2 * SEC));
        expect(await store.findLapsedAdvisors(cut, 10)).toEqual([]);
        ok(await store.setPresence(b, "away", T0 + 3 * SEC));
        expect(await store.findLapsedAdvisors(cut, 10)).toEqual([b]);
      });

      it("expirePresence sets a lapsed advisor offline, keeps heartbeatAt, and takes them out of the candidate index, the lapsed list and the count", async () => {
        const cut = T0 + 60 * SEC;
        const a = await withPresence("available", T0, { maxConcurrent: 2 });
        const taken = facts();
        ok(await store.takeAssignment(a, taken, uid("off"), T0, TTL));
        expect(await candidateIds()).toEqual([a]);
        expect(await store.countAvailable(T0)).toBe(1);

        const expired = ok(await store.expirePresence(a, cut));
        expect(expired.duplicate).toBe(false);
        expect(expired.advisor.supply).toEqual({ presence: "offline", heartbeatAt: T0, active: 1, pendingPush: 0 });
        expect(expired.advisor.assignments).toEqual([taken.id]);
        expect(await advisorOf(a)).toEqual(expired.advisor);
        expect(await candidateIds()).toEqual([]);
        expect(await store.findLapsedAdvisors(cut, 10)).toEqual([]);
        expect(await store.countAvailable(0)).toBe(0);
      });

      it("expirePresence refuses a heartbeat at or after the cut-off (NOT_DUE), e.g. one that arrived after the lookup", async () => {
        const cut = T0 + 60 * SEC;
        const a = await withPresence("available", T0);
        expect(await store.findLapsedAdvisors(cut, 10)).toEqual([a]);
        ok(await store.setPresence(a, "available", cut)); // the heartbeat lands between lookup and expiry
        expectRefused(await store.expirePresence(a, cut), "NOT_DUE");
        expect((await advisorOf(a)).supply).toMatchObject({ presence: "available", heartbeatAt: cut });
        expect(await candidateIds()).toEqual([a]);
      });

      it("expirePresence: an offline advisor is a duplicate that changes nothing; an unknown one is UNKNOWN_ADVISOR", async () => {
        const a = await withPresence("offline", T0);
        const before = await advisorOf(a);
        const again = ok(await store.expirePresence(a, T0 + MIN));
        expect(again.duplicate).toBe(true);
        expect(again.advisor).toEqual(before);
        expect(await advisorOf(a)).toEqual(before);
        expectRefused(await store.expirePresence(uid("adv"), T0 + MIN), "UNKNOWN_ADVISOR");
      });

      it("expirePresence also expires an away advisor", async () => {
        const a = await withPresence("away", T0);
        expect(ok(await store.expirePresence(a, T0 + SEC)).advisor.supply.presence).toBe("offline");
        expect(await store.findLapsedAdvisors(T0 + MIN, 10)).toEqual([]);
      });

      it("countAvailable counts available advisors with heartbeatAt >= heartbeatAfter only", async () => {
        await withPresence("available", T0);
        await withPresence("available", T0 + 10 * SEC);
        await withPresence("available", T0 + 20 * SEC);
        await withPresence("away", T0 + 20 * SEC);
        await withPresence("offline", T0 + 20 * SEC);
        await store.upsertAdvisor(profile(), T0 + 20 * SEC);

        expect(await store.countAvailable(0)).toBe(3);
        expect(await store.countAvailable(T0 + 10 * SEC)).toBe(2); // inclusive
        expect(await store.countAvailable(T0 + 10 * SEC + 1)).toBe(1);
        expect(await store.countAvailable(T0 + 21 * SEC)).toBe(0);
      });

      it("countAvailable follows presence changes, heartbeats and profile edits", async () => {
        const a = await withPresence("available", T0);
        expect(await store.countAvailable(T0 + SEC)).toBe(0);
        ok(await store.setPresence(a, "available", T0 + 2 * SEC));
        expect(await store.countAvailable(T0 + SEC)).toBe(1);
        await store.upsertAdvisor({ ...(await advisorOf(a)).profile, maxConcurrent: 7 }, T0 + 3 * SEC);
        expect(await store.countAvailable(T0 + SEC)).toBe(1);
        ok(await store.setPresence(a, "away", T0 + 4 * SEC));
        expect(await store.countAvailable(0)).toBe(0);
      });

      it("restoreAdvisor and reset re-index presence", async () => {
        const a = await withPresence("available", T0);
        const state = await advisorOf(a);
        await store.restoreAdvisor({ ...state, supply: { ...state.supply, presence: "offline" } });
        expect(await store.countAvailable(0)).toBe(0);
        expect(await store.findLapsedAdvisors(T0 + MIN, 10)).toEqual([]);

        await store.restoreAdvisor({ ...state, supply: { ...state.supply, presence: "away", heartbeatAt: T0 + SEC } });
        expect(await store.findLapsedAdvisors(T0 + MIN, 10)).toEqual([a]);
        await store.restoreAdvisor(state);
        expect(await store.countAvailable(T0)).toBe(1);
        expect(await store.findLapsedAdvisors(T0 + MIN, 10)).toEqual([a]);

        await store.reset();
        expect(await store.countAvailable(0)).toBe(0);
        expect(await store.findLapsedAdvisors(T0 + MIN, 10)).toEqual([]);
      });

      it("a sweep expires every lapsed advisor and nobody else, concurrently with heartbeats", async () => {
        const cut = T0 + 60 * SEC;
        const lapsed = await Promise.all(Array.from({ length: 20 }, (_, i) => withPresence(i % 2 ? "away" : "available", T0 + i)));
        const fresh = await Promise.all(Array.from({ length: 10 }, () => withPresence("available", cut + SEC)));
        // Half the lapsed advisors heartbeat while the sweep runs; whichever lands first decides each.
        const found = await store.findLapsedAdvisors(cut, 100);
        expect(sorted(found)).toEqual(sorted(lapsed));
        const beats = lapsed.filter((_, i) => i % 4 === 0);
        const [expiries] = await Promise.all([
          Promise.all(found.map((id) => store.expirePresence(id, cut))),
          Promise.all(beats.map((id) => store.setPresence(id, "available", cut + 2 * SEC))),
        ]);
        for (const [i, id] of found.entries()) {
          const state = await advisorOf(id);
          const result = expiries[i]!;
          // Either the expiry won (and then a later heartbeat may have brought them back), or the
          // heartbeat came first and the expiry was refused.
          if (!result.ok) expect(result.reason).toBe("NOT_DUE");
          if (!beats.includes(id)) expect(state.supply.presence).toBe("offline");
          else expect(state.supply).toMatchObject({ presence: "available", heartbeatAt: cut + 2 * SEC });
        }
        expect(await store.findLapsedAdvisors(cut, 100)).toEqual([]);
        expect(await store.countAvailable(cut)).toBe(fresh.length + beats.length);
      });
    });

    // ==== concurrency ===========================================================================

    describe("the live-state fence", () => {
      /**
       * Every operation that writes advisor or request state, and claimDueDeadlines, in one list:
       * run against a restored advisor and request, so only the fence can refuse them.
       */
      function fencedCalls(a: AdvisorState, request: LiveRequest, offered: OfferState): Array<[string, () => Promise<unknown>]> {
        const id = a.profile.id;
        const rid = request.facts.id;
        return [
          ["upsertAdvisor", () => store.upsertAdvisor(a.profile, T0 + SEC)],
          ["upsertAdvisor (new)", () => store.upsertAdvisor(profile(), T0 + SEC)],
          ["setPresence", () => store.setPresence(id, "away", T0 + SEC)],
          ["expirePresence", () => store.expirePresence(id, T0 + DAY)],
          ["holdPushSlot", () => store.holdPushSlot(id, facts(), uid("off"), T0 + SEC, TTL)],
          ["takeAssignment", () => store.takeAssignment(id, request.facts, offered.id, T0 + SEC, TTL)],
          ["releaseAssignment", () => store.releaseAssignment(id, a.assignments[0]!)],
          ["releasePushHold", () => store.releasePushHold(id, a.pushHolds[0]!)],
          ["recordAnswer", () => store.recordAnswer(id, { accepted: true, latencyMs: 900 })],
          ["recordRating", () => store.recordRating(id, 5)],
          ["setIncentive", () => store.setIncentive(id, 0.5)],
          ["createRequest", () => store.createRequest(facts(), { stageIndex: 0, now: T0, deadline: T0 + MIN })],
          ["addOffers", () => store.addOffers(rid, 0, [offer(rid, uid("adv"))], T0 + SEC)],
          ["claimOffer", () => store.claimOffer(rid, offered.id, offered.advisorId, T0 + SEC)],
          ["closeOffer", () => store.closeOffer(rid, offered.id, "declined", T0 + SEC, offered.advisorId)],
          ["advanceStage", () => store.advanceStage(rid, { fromStageIndex: 0, toStageIndex: 1, now: T0 + SEC, queueScore: null })],
          ["finishRequest", () => store.finishRequest(rid, { to: "cancelled", now: T0 + SEC })],
          ["reopenRequest", () => store.reopenRequest(rid, { advisorId: id, now: T0 + SEC })],
          ["claimDueDeadlines", () => store.claimDueDeadlines(T0 + DAY, SEC, 10)],
        ];
      }

      /** The live state as a rebuild restores it, with the generation missing (the fence closed). */
      async function restoredWithoutGeneration() {
        await store.reset();
        const p = profile({ maxConcurrent: 3 });
        const held = uid("req");
        const pending = offer(uid("req"), p.id);
        const advisor: AdvisorState = {
          profile: p,
          supply: { presence: "available", heartbeatAt: T0, active: 1, pendingPush: 1 },
          stats: { ...EMPTY_STATS },
          assignments: [held],
          pushHolds: [uid("off")],
        };
        const f = facts({ id: pending.requestId });
        const request: LiveRequest = {
          facts: f,
          status: "offered",
          stageIndex: 0,
          stageStartedAt: T0,
          offersInStage: 1,
          assignedAdvisorId: null,
          excluded: [],
          offers: [{ ...pending, id: uid("off") }],
          queueScore: null,
          callbackRequested: false,
          updatedAt: T0,
          rev: 3,
        };
        // Restores are not fenced: the rebuild writes with them while the generation is missing.
        await store.restoreAdvisor(advisor);
        await store.restoreRequest(request, T0);
        return { advisor, request: (await store.getRequest(f.id))!, offered: request.offers[0]! };
      }

      it("with the generation missing, every fenced write throws LiveStateUnavailableError and changes nothing (Redis); the memory adapter is never fenced", async () => {
        const { advisor, request, offered } = await restoredWithoutGeneration();
        expect(await store.getGeneration()).toBeNull();
        if (store.kind === "memory") {
          // The in-memory state lives and dies with its process, so it is never lost under a running
          // engine: the fence never closes, not even after reset(), and writes go on.
          expect(await store.isLive()).toBe(true);
          ok(await store.setPresence(advisor.profile.id, "away", T0 + SEC));
          ok(await store.claimOffer(request.facts.id, offered.id, offered.advisorId, T0 + SEC));
          return;
        }
        expect(await store.isLive()).toBe(false);
        for (const [name, call] of fencedCalls(advisor, request, offered)) {
          const error = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error, name).toBeInstanceOf(LiveStateUnavailableError);
          expect((error as Error).name, name).toBe("LiveStateUnavailableError");
          expect((error as Error).message, name).toMatch(/live state unavailable/);
        }
        // Nothing changed: the documents, the deadline, the candidate index.
        expect(await store.getAdvisor(advisor.profile.id)).toEqual(advisor);
        expect(await store.getRequest(request.facts.id)).toEqual(request);
        expect(await store.getDeadline(request.facts.id)).toBe(T0);
        expect(await candidateIds()).toEqual([advisor.profile.id]);

        // Reads and checks that write nothing still answer.
        expect((await store.checkBroadcastEligibility(advisor.profile.id, facts(), T0 + SEC, TTL)).ok).toBe(true);
        expect(await store.listLiveRequestIds()).toEqual([request.facts.id]);

        // A rebuild sets the generation: the fence opens.
        await store.setGeneration("rebuilt");
        expect(await store.isLive()).toBe(true);
        ok(await store.claimOffer(request.facts.id, offered.id, offered.advisorId, T0 + SEC));
      });

      it("isLive is true while a generation is set", async () => {
        expect(await store.isLive()).toBe(true);
      });

      it("lookupRequest reads a request with whether the state was live: absent from a lost state is not 'not found' (Redis)", async () => {
        const known = (await newRequest()).facts.id;
        const unknown = uid("req");
        expect(await store.lookupRequest(known)).toEqual({ request: await requestOf(known), live: true });
        expect(await store.lookupRequest(unknown)).toEqual({ request: null, live: true });
        await store.reset();
        // Memory: never lost while its process lives (as isLive). Redis: the fence is closed.
        const keepsLive = store.kind === "memory";
        expect(await store.lookupRequest(known)).toEqual({ request: null, live: keepsLive });
        const { request } = await restoredWithoutGeneration();
        expect(await store.lookupRequest(request.facts.id)).toEqual({ request, live: keepsLive });
        await store.setGeneration("rebuilt");
        expect(await store.lookupRequest(request.facts.id)).toEqual({ request, live: true });
        expect(await store.lookupRequest(unknown)).toEqual({ request: null, live: true });
      });
    });

    describe("generation and leases", () => {
      it("reset clears the generation, which stays null until set again", async () => {
        expect(await store.getGeneration()).toBe(GENERATION);
        await store.reset();
        expect(await store.getGeneration()).toBeNull();
        await store.setGeneration("g1");
        expect(await store.getGeneration()).toBe("g1");
      });

      it("retireGeneration closes the fence only if the generation is still the one given", async () => {
        expect(await store.retireGeneration("not-it")).toBe(false);
        expect(await store.getGeneration()).toBe(GENERATION);
        expect(await store.retireGeneration(GENERATION)).toBe(true);
        expect(await store.getGeneration()).toBeNull();
        expect(await store.retireGeneration(GENERATION)).toBe(false);
        await store.setGeneration(GENERATION);
      });

      it("reset with keepLeases empties the live state and the generation but keeps the leases", async () => {
        const name = uid("lease");
        expect(await store.acquireLease(name, "holder", 60_000)).toBe(true);
        await store.reset({ keepLeases: true });
        expect(await store.getGeneration()).toBeNull();
        expect(await store.acquireLease(name, "other", 60_000)).toBe(false);
        expect(await store.renewLease(name, "holder", 60_000)).toBe(true);
        await store.releaseLease(name, "holder");
        await store.setGeneration(GENERATION);
      });

      it("a lease has one holder until it expires or is released; only the holder renews or releases it", async () => {
        const name = uid("lease");
        expect(await store.acquireLease(name, "a", 60_000)).toBe(true);
        expect(await store.acquireLease(name, "b", 60_000)).toBe(false);
        expect(await store.renewLease(name, "b", 60_000)).toBe(false);
        expect(await store.renewLease(name, "a", 60_000)).toBe(true);
        await store.releaseLease(name, "b");
        expect(await store.acquireLease(name, "b", 60_000)).toBe(false);
        await store.releaseLease(name, "a");
        expect(await store.acquireLease(name, "b", 60_000)).toBe(true);
      });

      it("an expired lease can be taken over, and its old holder can no longer renew it", async () => {
        const name = uid("lease");
        expect(await store.acquireLease(name, "a", 50)).toBe(true);
        await new Promise((r) => setTimeout(r, 120));
        expect(await store.acquireLease(name, "b", 60_000)).toBe(true);
        expect(await store.renewLease(name, "a", 60_000)).toBe(false);
      });

      it("concurrent acquirers: exactly one wins", async () => {
        const name = uid("lease");
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.acquireLease(name, `t${i}`, 60_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe("concurrency", () => {
      it("50 concurrent takeAssignment calls from one advisor (maxConcurrent 3) for 50 requests: exactly 3 succeed", async () => {
        const a = await online({ maxConcurrent: 3 });
        const requests = Array.from({ length: 50 }, () => facts());
        const results = await Promise.all(requests.map((r) => store.takeAssignment(a.profile.id, r, uid("off"), T0 + SEC, TTL)));

        expect(results.filter((r) => r.ok)).toHaveLength(3);
        expect(results.filter((r) => !r.ok && r.reason === "CAPACITY")).toHaveLength(47);
        const state = await advisorOf(a.profile.id);
        expect(state.supply.active).toBe(3);
        const winners = requests.filter((_, i) => results[i]!.ok).map((r) => r.id);
        expect(sorted(state.assignments)).toEqual(sorted(winners));
      });

      it("50 concurrent claims on one request's broadcast offers to 50 advisors: exactly one winner, 49 ALREADY_TAKEN", async () => {
        const request = await newRequest({ mode: "grab" });
        const id = request.facts.id;
        const advisors = Array.from({ length: 50 }, () => uid("adv"));
        const offers = await offerTo(id, advisors, { kind: "broadcast" });
        const results = await Promise.all(offers.map((o) => store.claimOffer(id, o.id, o.advisorId, T0 + SEC)));

        const winners = results.flatMap((r, i) => (r.ok ? [advisors[i]!] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => !r.ok && r.reason === "ALREADY_TAKEN")).toHaveLength(49);
        const final = await requestOf(id);
        expect(final.assignedAdvisorId).toBe(winners[0]);
        expect(final.offers.filter((o) => o.outcome === "accepted")).toHaveLength(1);
        expect(final.offers.filter((o) => o.outcome === "lost_race")).toHaveLength(49);
      });

      it("50 concurrent holdPushSlot calls (maxConcurrent 3): exactly 3 holds", async () => {
        const a = await online({ maxConcurrent: 3 });
        const results = await Promise.all(Array.from({ length: 50 }, () => store.holdPushSlot(a.profile.id, facts(), uid("off"), T0 + SEC, TTL)));
        expect(results.filter((r) => r.ok)).toHaveLength(3);
        expect((await advisorOf(a.profile.id)).supply.pendingPush).toBe(3);
      });

      it("concurrent sweepers never receive the same due deadline within one lease", async () => {
        const ids: string[] = [];
        for (let i = 0; i < 20; i++) ids.push((await newRequest()).facts.id);
        for (const id of ids) await store.setDeadline(id, T0);
        const batches = await Promise.all(Array.from({ length: 8 }, () => store.claimDueDeadlines(T0 + SEC, MIN, 4)));
        const claimed = batches.flat();
        expect(new Set(claimed).size).toBe(claimed.length);
        expect(sorted(claimed)).toEqual(sorted(ids));
      });
    });
  });
}

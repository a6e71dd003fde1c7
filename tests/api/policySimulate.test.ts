/**
 * POST /v1/branches/{id}/dispatch-policy/simulate in-process on the embedded backends, with the real
 * replay (simulation/replay.ts) as the server wires it: who may ask, the bounds (a reversed window,
 * a long one cut and saying why, a bad policy's field errors, busy and timed out), and a replayed
 * window with known answers (tests/api/support/replayScript.ts: one advisor who always accepted in
 * exactly 2 s and handled 60 s, available all day).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../api/auth/principal.ts";
import { policySimulateRoutes } from "../../api/routes/policySimulate.ts";
import { BRANCH_DISPATCH_POLICY, DEFAULT_DISPATCH_POLICY, type DispatchPolicy } from "../../matching/domain/policy.ts";
import { branchKpis } from "../../reporting/kpis.ts";
import type { PolicyReplay, PolicyReplayAnswer } from "../../reporting/policyReplay.ts";
import { replayBranchPolicies } from "../../simulation/replay.ts";
import { callApp, createTestApp, errorOf, openTestDeps, type TestDeps } from "../support/testApp.ts";
import { HANDLE_MS, insertReplayScript, REPLAY_DAY, REQUESTS, type ReplayScript } from "./support/replayScript.ts";

const THINK_MS = 2_000;
/** The default funnel's dedicated stage alone: with no dedicated advisors, every request goes to the queue. */
const DEDICATED_ONLY: DispatchPolicy = { ...DEFAULT_DISPATCH_POLICY, stages: DEFAULT_DISPATCH_POLICY.stages.filter((s) => s.pool === "dedicated") };

describe("POST /v1/branches/{id}/dispatch-policy/simulate (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let script: ReplayScript;
  let other: ReplayScript;
  const admin: Principal = { sub: "usr_admin", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const path = (branchId = script.branchId) => `/v1/branches/${branchId}/dispatch-policy/simulate`;
  const post = (principal: Principal | null, body: unknown, branchId?: string, on = app) =>
    callApp(on, t.deps.config.jwtSecret, "POST", path(branchId), principal, body);
  const body = (policy: unknown = DEFAULT_DISPATCH_POLICY, window: { from: string; to: string } = REPLAY_DAY) => ({ policy, ...window });
  const appWith = (policyReplay: PolicyReplay) => createTestApp(t.deps, policySimulateRoutes({ ...t.deps, policyReplay }));

  beforeAll(async () => {
    t = await openTestDeps("adx-policy-simulate-");
    app = appWith(replayBranchPolicies);
    script = await insertReplayScript(t.deps.backends.database.prisma, THINK_MS);
    other = await insertReplayScript(t.deps.backends.database.prisma, THINK_MS);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  describe("who may ask: as for PUT dispatch-policy", () => {
    it("the branch's manager and an admin 200; another branch's manager, an advisor and a client 403; no token 401", async () => {
      expect((await post(managerOf(script.branchId), body())).status).toBe(200);
      expect((await post(admin, body())).status).toBe(200);
      const denied = [
        managerOf(other.branchId),
        { sub: script.advisorId, role: "advisor", branchId: script.branchId } as Principal,
        { sub: "cli_someone", role: "client", branchId: script.branchId } as Principal,
      ];
      for (const principal of denied) {
        const res = await post(principal, body());
        expect(res.status).toBe(403);
        expect((await errorOf(res)).code).toBe("FORBIDDEN");
      }
      expect((await post(null, body())).status).toBe(401);
    }, 60_000);

    it("an unknown branch is a 404 for an admin", async () => {
      const res = await post(admin, body(), "brn_nosuchbranch");
      expect(res.status).toBe(404);
    });
  });

  describe("a replayed window with known answers", () => {
    it("the current policy (the default) answers every request at the branch stage in exactly 2 s; the dedicated stage alone answers them from the queue", async () => {
      const res = await post(managerOf(script.branchId), body(DEDICATED_ONLY));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as PolicyReplayAnswer;
      expect(answer.window).toEqual({ ...REPLAY_DAY, requests: REQUESTS });
      expect(answer.cutShort).toBe(false);
      expect(answer.current.version).toBe(0);
      expect(answer.current.kpis).toMatchObject({
        created: REQUESTS,
        assigned: REQUESTS,
        completed: REQUESTS,
        abandoned: 0,
        answerRate: 1,
        timeToAcceptMs: { p50: THINK_MS, p90: THINK_MS },
        timeToFirstOfferMs: { p50: 0, p90: 0 },
        answeredByStage: { dedicated: 0, branch: REQUESTS, region: 0, national: 0, queue: 0 },
        offers: REQUESTS,
        declineRate: 0,
        timeoutRate: 0,
      });
      // Six conversations of 60 s over a day available.
      expect(answer.current.kpis.utilisation).toBeCloseTo((REQUESTS * HANDLE_MS) / 86_400_000, 9);
      // Only the dedicated stage, and no client has a dedicated advisor: each request goes straight
      // to the queue, which the free advisor serves, in the same 2 s.
      expect(answer.candidate.kpis).toMatchObject({
        created: REQUESTS,
        assigned: REQUESTS,
        answerRate: 1,
        timeToAcceptMs: { p50: THINK_MS, p90: THINK_MS },
        answeredByStage: { dedicated: 0, branch: 0, region: 0, national: 0, queue: REQUESTS },
      });
      // The fit: the advisor's own record, exact.
      expect(answer.fitted.advisors).toEqual([
        expect.objectContaining({
          advisorId: script.advisorId,
          source: { offers: "own", handle: "own" },
          offers: REQUESTS,
          handled: REQUESTS,
          acceptRate: 1,
          acceptProbability: 1,
          thinkTime: { kind: "lognormal", medianSeconds: 2, sigma: 0 },
          handleTime: { kind: "lognormal", medianSeconds: 60, sigma: 0 },
          availableSeconds: 86_400,
        }),
      ]);
      expect(answer.assumptions.join(" ")).toMatch(/region and national stages find no advisors of other branches/);
    }, 60_000);

    it("offers that expire before the advisor's think time (5 s against 8 s): every offer times out and nobody is answered", async () => {
      const slow = await insertReplayScript(t.deps.backends.database.prisma, 8_000);
      // Push offers at the branch stage (a grab's window is grabWindowSeconds, not the offer TTL).
      const fiveSeconds: DispatchPolicy = { ...BRANCH_DISPATCH_POLICY, stages: BRANCH_DISPATCH_POLICY.stages.slice(0, 2), offerTtlSeconds: 5 };
      const res = await post(managerOf(slow.branchId), body(fiveSeconds), slow.branchId);
      expect(res.status).toBe(200);
      const answer = (await res.json()) as PolicyReplayAnswer;
      expect(answer.current.kpis).toMatchObject({ assigned: REQUESTS, timeToAcceptMs: { p50: 8_000, p90: 8_000 }, timeoutRate: 0 });
      expect(answer.candidate.kpis.answeredByStage.branch).toBe(0);
      expect(answer.candidate.kpis.timeoutRate).toBeGreaterThan(0);
    }, 60_000);

    it("is deterministic: the same window and seed give the same answer", async () => {
      const first = await (await post(admin, { ...body(DEDICATED_ONLY), seed: 7 })).json();
      const second = await (await post(admin, { ...body(DEDICATED_ONLY), seed: 7 })).json();
      expect(second).toEqual(first);
    }, 60_000);
  });

  describe("bounds", () => {
    it("from at or after to is a 400 naming `to`", async () => {
      for (const window of [
        { from: REPLAY_DAY.to, to: REPLAY_DAY.from },
        { from: REPLAY_DAY.from, to: REPLAY_DAY.from },
      ]) {
        const res = await post(admin, body(DEFAULT_DISPATCH_POLICY, window));
        expect(res.status).toBe(400);
        const error = await errorOf(res);
        expect(error.code).toBe("VALIDATION_FAILED");
        expect(error.details?.map((d) => d.path)).toContain("to");
      }
    });

    it("a bad policy is a 400 with the policy's field errors", async () => {
      const res = await post(admin, body({ ...DEFAULT_DISPATCH_POLICY, offerTtlSeconds: 1, stages: [] }));
      expect(res.status).toBe(400);
      const paths = (await errorOf(res)).details?.map((d) => d.path) ?? [];
      expect(paths).toEqual(expect.arrayContaining(["policy.offerTtlSeconds", "policy.stages"]));
    });

    it("a window longer than 7 days is cut to its first 7 and says so", async () => {
      const res = await post(admin, body(DEFAULT_DISPATCH_POLICY, { from: "2026-03-01T00:00:00.000Z", to: "2026-03-20T00:00:00.000Z" }));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as PolicyReplayAnswer;
      expect(answer.cutShort).toBe(true);
      expect(answer.cutReason).toMatch(/longer than 7 days/);
      expect(answer.window).toEqual({ from: "2026-03-01T00:00:00.000Z", to: "2026-03-08T00:00:00.000Z", requests: REQUESTS });
    }, 60_000);

    it("more requests than the bound: cut at the first request left out, and says so", async () => {
      const few = createTestApp(
        t.deps,
        policySimulateRoutes({ ...t.deps, policyReplay: (p, input) => replayBranchPolicies(p, input, { maxDays: 7, maxRequests: 4, timeoutMs: 20_000 }) }),
      );
      const answer = (await (await post(admin, body(), undefined, few)).json()) as PolicyReplayAnswer;
      expect(answer.cutShort).toBe(true);
      expect(answer.cutReason).toMatch(/more than 4 requests/);
      expect(answer.window).toEqual({ from: REPLAY_DAY.from, to: "2026-03-03T13:00:00.000Z", requests: 4 });
      expect(answer.current.kpis.created).toBe(4);
    }, 60_000);

    it("a window in the future holds no requests: zero created, nothing cut", async () => {
      const res = await post(admin, body(DEFAULT_DISPATCH_POLICY, { from: "2030-01-01T00:00:00.000Z", to: "2030-01-02T00:00:00.000Z" }));
      expect(res.status).toBe(200);
      const answer = (await res.json()) as PolicyReplayAnswer;
      expect(answer.window.requests).toBe(0);
      expect(answer.cutShort).toBe(false);
      expect(answer.current.kpis.created).toBe(0);
      expect(answer.candidate.kpis.answerRate).toBeNull();
    }, 60_000);

    it("a past window without requests answers, on both sides, what the branch's KPIs report for it", async () => {
      const window = { from: "2026-03-05T00:00:00.000Z", to: "2026-03-06T00:00:00.000Z" };
      const answer = (await (await post(admin, body(DEFAULT_DISPATCH_POLICY, window))).json()) as PolicyReplayAnswer;
      const real = await branchKpis(t.deps.backends.database.prisma, {
        branchId: script.branchId,
        from: new Date(window.from),
        to: new Date(window.to),
        bucket: "day",
      });
      if (!real.ok) throw new Error(real.reason);
      expect(real.kpis.total.utilisation).toBe(0);
      expect(answer.current.kpis).toEqual(real.kpis.total);
      expect(answer.candidate.kpis).toEqual(real.kpis.total);
    });

    it("a replay past its wall-clock limit is a 503, not a 500", async () => {
      const hurried = appWith((p, input) => replayBranchPolicies(p, input, { maxDays: 7, maxRequests: 2_000, timeoutMs: 0 }));
      const res = await post(admin, body(), undefined, hurried);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBeTruthy();
      expect((await errorOf(res)).message).toMatch(/took longer than/);
    }, 60_000);

    it("one replay at a time: a second while one runs answers 503 with Retry-After at once", async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const slowApp = appWith(async (p, input) => {
        entered();
        await held;
        return replayBranchPolicies(p, input);
      });
      const first = post(admin, body(), undefined, slowApp);
      // The second is sent once the first holds the slot: sent at once, it could overtake the first
      // into the handler, take the slot itself and wait on \`held\` for good (seen once under load).
      await inside;
      const second = await post(admin, body(), undefined, slowApp);
      expect(second.status).toBe(503);
      expect(second.headers.get("retry-after")).toBeTruthy();
      release();
      expect((await first).status).toBe(200);
    }, 60_000);
  });
});

/** Branch policy and queue routes in-process: optimistic concurrency, validation, branch scoping, the live queue. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../api/auth/principal.ts";
import { directoryRoutes } from "../../api/routes/directory.ts";
import { policyRoutes } from "../../api/routes/policy.ts";
import { DEFAULT_DISPATCH_POLICY, type DispatchPolicy } from "../../matching/domain/policy.ts";
import { callApp, createTestApp, errorOf, idOf, openTestDeps, type TestDeps } from "../support/testApp.ts";

interface PolicyJson {
  branchId: string;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
  policy: DispatchPolicy;
}
interface QueueJson {
  waiting: Array<{ requestId: string; clientId: string; requiredLicence: string; priority: number; createdAt: string; stage: string; waitingSeconds: number }>;
  availableAdvisors: Array<{ advisorId: string; name: string; active: number; maxConcurrent: number; licences: Array<{ kind: string }> }>;
}

const YEAR = 365 * 86_400_000;

describe("branch policy and queue routes (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let branchA: string;
  let branchB: string;

  const admin: Principal = { sub: "usr_admin", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const call = (method: string, path: string, principal: Principal | null, body?: unknown) =>
    callApp(app, t.deps.config.jwtSecret, method, path, principal, body);
  const newBranch = async (name: string) => idOf(await call("POST", "/v1/branches", admin, { name, region: "north" }));
  const policyPath = (branchId: string) => `/v1/branches/${branchId}/dispatch-policy`;
  const tweaked = (offerTtlSeconds: number): DispatchPolicy => ({ ...DEFAULT_DISPATCH_POLICY, offerTtlSeconds });

  beforeAll(async () => {
    t = await openTestDeps("adx-policy-");
    app = createTestApp(t.deps, directoryRoutes(t.deps), policyRoutes(t.deps));
    branchA = await newBranch("Alpha");
    branchB = await newBranch("Beta");
  });
  afterAll(async () => {
    await t?.close();
  });

  describe("access", () => {
    const routes = (branchId: string): Array<[string, string, unknown]> => [
      ["GET", policyPath(branchId), undefined],
      ["PUT", policyPath(branchId), DEFAULT_DISPATCH_POLICY],
      ["GET", `/v1/branches/${branchId}/queue`, undefined],
    ];

    it("answers 401 without a token on every route", async () => {
      for (const [method, path, body] of routes(branchA)) expect((await call(method, path, null, body)).status).toBe(401);
    });

    it("answers 403 to a manager of another branch on every route, and changes nothing", async () => {
      for (const [method, path, body] of routes(branchB)) {
        const res = await call(method, path, managerOf(branchA), body);
        expect(res.status).toBe(403);
        expect((await errorOf(res)).code).toBe("FORBIDDEN");
      }
      expect(await t.deps.backends.database.prisma.dispatchPolicy.count({ where: { branchId: branchB } })).toBe(0);
    });

    it("answers 403 to advisors, clients and compliance on every route", async () => {
      const others: Principal[] = [
        { sub: "adv_x", role: "advisor", branchId: branchA },
        { sub: "cli_x", role: "client" },
        { sub: "usr_c", role: "compliance" },
      ];
      for (const principal of others) for (const [method, path, body] of routes(branchA)) expect((await call(method, path, principal, body)).status).toBe(403);
    });

    it("answers 404 to an admin for an unknown branch, 400 for a malformed branch id", async () => {
      for (const [method, path, body] of routes("brn_unknown")) expect((await call(method, path, admin, body)).status).toBe(404);
      for (const [method, path, body] of routes("adv_notabranch")) expect((await call(method, path, admin, body)).status).toBe(400);
    });
  });

  describe("GET/PUT /v1/branches/{id}/dispatch-policy", () => {
    it("shows the default at version 0 for a branch that never stored one", async () => {
      const res = await call("GET", policyPath(branchA), managerOf(branchA));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ branchId: branchA, version: 0, updatedAt: null, updatedBy: null, policy: DEFAULT_DISPATCH_POLICY });
    });

    it("stores versions 1, 2, 3 through unconditional and conditional writes", async () => {
      const first = await call("PUT", policyPath(branchA), managerOf(branchA), tweaked(25));
      expect(first.status).toBe(200);
      const v1 = (await first.json()) as PolicyJson;
      expect(v1).toMatchObject({ branchId: branchA, version: 1, updatedBy: managerOf(branchA).sub, policy: tweaked(25) });
      expect(Date.parse(v1.updatedAt!)).toBeGreaterThan(Date.now() - 60_000);

      const second = (await (await call("PUT", policyPath(branchA), admin, { ...tweaked(30), expectedVersion: 1 })).json()) as PolicyJson;
      expect(second).toMatchObject({ version: 2, updatedBy: admin.sub, policy: tweaked(30) });
      const third = (await (await call("PUT", policyPath(branchA), managerOf(branchA), tweaked(35))).json()) as PolicyJson;
      expect(third.version).toBe(3);

      const read = (await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson;
      expect(read).toMatchObject({ version: 3, updatedBy: managerOf(branchA).sub, policy: tweaked(35) });
      // What the engine reads is what was stored.
      const row = await t.deps.backends.database.prisma.dispatchPolicy.findUniqueOrThrow({ where: { branchId: branchA } });
      expect(row.policy).toEqual(tweaked(35));
    });

    it("answers 409 CONFLICT to a stale expectedVersion, naming the current one, and keeps the stored policy", async () => {
      const current = (await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson;
      const res = await call("PUT", policyPath(branchA), managerOf(branchA), { ...tweaked(99), expectedVersion: current.version - 1 });
      expect(res.status).toBe(409);
      const error = await errorOf(res);
      expect(error.code).toBe("CONFLICT");
      expect(error.details).toEqual({ currentVersion: current.version });
      expect((await call("PUT", policyPath(branchA), admin, { ...tweaked(99), expectedVersion: 0 })).status).toBe(409);
      expect((await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson).toMatchObject({ version: current.version, policy: current.policy });
    });

    it("with expectedVersion 0 creates only the first version; a higher one on a fresh branch conflicts", async () => {
      const fresh = await newBranch("Fresh");
      const ahead = await call("PUT", policyPath(fresh), admin, { ...tweaked(40), expectedVersion: 3 });
      expect(ahead.status).toBe(409);
      expect((await errorOf(ahead)).details).toEqual({ currentVersion: 0 });
      const created = await call("PUT", policyPath(fresh), admin, { ...tweaked(40), expectedVersion: 0 });
      expect(created.status).toBe(200);
      expect(((await created.json()) as PolicyJson).version).toBe(1);
    });

    it("lets exactly one of two concurrent editors of the same version win", async () => {
      const current = ((await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson).version;
      const results = await Promise.all(
        [50, 51].map((ttl) => call("PUT", policyPath(branchA), managerOf(branchA), { ...tweaked(ttl), expectedVersion: current })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(((await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson).version).toBe(current + 1);
    });

    it("gives concurrent unconditional writers distinct versions", async () => {
      const fresh = await newBranch("Race");
      const results = await Promise.all([20, 21, 22].map((ttl) => call("PUT", policyPath(fresh), admin, tweaked(ttl))));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      const versions = await Promise.all(results.map(async (r) => ((await r.json()) as PolicyJson).version));
      expect(versions.sort()).toEqual([1, 2, 3]);
    });

    it("a saved policy governs this process's next offer at once, not after the engine's cache expires", async () => {
      const branch = await newBranch("Prompt");
      const manager = managerOf(branch);
      const advisorId = await idOf(
        await call("POST", "/v1/advisors", manager, {
          branchId: branch,
          name: "Pia",
          languages: ["en"],
          maxConcurrent: 10,
          suitabilityMaxRisk: 5,
          licences: [{ kind: "insurance", number: `INS-${branch}`, validUntil: new Date(Date.now() + YEAR).toISOString() }],
        }),
      );
      await t.deps.matching.engine.setPresence(advisorId, "available");
      const clientId = await idOf(await call("POST", "/v1/clients", manager, { branchId: branch, name: "Cy", riskLevel: 2, language: "en" }));
      const offerSeconds = async () => {
        const made = await t.deps.matching.engine.createRequest({
          clientId,
          topic: "help",
          requiredLicence: "insurance",
          channel: "chat",
          mode: "dispatch",
          language: null,
          priority: 0,
        });
        if (!made.ok) throw new Error(made.reason);
        const offer = (await t.deps.matching.store.getRequest(made.requestId))!.offers[0]!;
        return (offer.expiresAt - offer.sentAt) / 1_000;
      };
      // The first request caches the default policy (20 s offers) in the engine.
      expect(await offerSeconds()).toBe(DEFAULT_DISPATCH_POLICY.offerTtlSeconds);
      expect((await call("PUT", policyPath(branch), manager, tweaked(45))).status).toBe(200);
      expect(await offerSeconds()).toBe(45);
    });

    it("names the field in validation errors", async () => {
      const cases: Array<[unknown, string]> = [
        [{ ...DEFAULT_DISPATCH_POLICY, offerTtlSeconds: 1 }, "offerTtlSeconds"],
        [{ ...DEFAULT_DISPATCH_POLICY, weights: { ...DEFAULT_DISPATCH_POLICY.weights, rating: -1 } }, "weights.rating"],
        [{ ...DEFAULT_DISPATCH_POLICY, stages: [{ pool: "dedicated", mode: "grab", timeoutSeconds: 20, maxOffers: 1 }] }, "stages.0"],
        [{ ...DEFAULT_DISPATCH_POLICY, stages: [] }, "stages"],
        [{ ...DEFAULT_DISPATCH_POLICY, expectedVersion: -1 }, "expectedVersion"],
        [{ ...DEFAULT_DISPATCH_POLICY, expectedVersion: "1" }, "expectedVersion"],
      ];
      for (const [body, path] of cases) {
        const res = await call("PUT", policyPath(branchA), managerOf(branchA), body);
        expect(res.status).toBe(400);
        const error = await errorOf(res);
        expect(error.code).toBe("VALIDATION_FAILED");
        expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
      }
      const { surgeThreshold: _dropped, ...missing } = DEFAULT_DISPATCH_POLICY;
      expect((await errorOf(await call("PUT", policyPath(branchA), admin, missing))).details).toEqual([expect.objectContaining({ path: "surgeThreshold" })]);
      const unknown = await call("PUT", policyPath(branchA), admin, { ...DEFAULT_DISPATCH_POLICY, turbo: true });
      expect(unknown.status).toBe(400);
    });
  });

  describe("PUT /v1/branches/{id}/dispatch-policy with the GET answer sent back", () => {
    it("stores an edited GET answer as the next version, and answers 409 to the same edit sent again (its version is stale now)", async () => {
      const branch = await newBranch("Envelope");
      const fresh = (await (await call("GET", policyPath(branch), managerOf(branch))).json()) as PolicyJson;
      expect(fresh.version).toBe(0);
      // Version 0 stands in for expectedVersion 0: stored only while nothing is.
      const first = await call("PUT", policyPath(branch), managerOf(branch), { ...fresh, policy: tweaked(41) });
      expect(first.status).toBe(200);
      const v1 = (await first.json()) as PolicyJson;
      expect(v1).toMatchObject({ branchId: branch, version: 1, updatedBy: managerOf(branch).sub, policy: tweaked(41) });

      const edited = { ...v1, policy: { ...v1.policy, surgeThreshold: 7 } };
      const second = await call("PUT", policyPath(branch), admin, edited);
      expect(second.status).toBe(200);
      expect((await second.json()) as PolicyJson).toMatchObject({ version: 2, updatedBy: admin.sub, policy: edited.policy });

      // The same body again started from version 1, which is no longer current.
      const stale = await call("PUT", policyPath(branch), managerOf(branch), { ...edited, policy: tweaked(60) });
      expect(stale.status).toBe(409);
      expect((await errorOf(stale)).details).toEqual({ currentVersion: 2 });
      const stored = (await (await call("GET", policyPath(branch), admin)).json()) as PolicyJson;
      expect(stored).toMatchObject({ version: 2, policy: edited.policy });

      // expectedVersion, when sent, must agree with version; sent alone it decides.
      const disagree = await call("PUT", policyPath(branch), admin, { ...stored, expectedVersion: 1 });
      expect(disagree.status).toBe(400);
      expect((await errorOf(disagree)).details).toEqual([expect.objectContaining({ path: "expectedVersion" })]);
      const { version: _v, ...withoutVersion } = stored;
      const explicit = await call("PUT", policyPath(branch), admin, { ...withoutVersion, policy: tweaked(45), expectedVersion: 2 });
      expect(((await explicit.json()) as PolicyJson).version).toBe(3);
      expect((await call("PUT", policyPath(branch), admin, { ...stored, expectedVersion: 2 })).status).toBe(409);
      // Neither: an unconditional write, like the flat form without expectedVersion.
      const unconditional = await call("PUT", policyPath(branch), admin, { policy: tweaked(46) });
      expect(((await unconditional.json()) as PolicyJson).version).toBe(4);
    });

    it("answers 400 to another branch's policy sent to this branch's path, and stores nothing", async () => {
      const body = (await (await call("GET", policyPath(branchB), admin)).json()) as PolicyJson;
      const before = await t.deps.backends.database.prisma.dispatchPolicy.findUnique({ where: { branchId: branchA } });
      const res = await call("PUT", policyPath(branchA), admin, { ...body, version: before?.version ?? 0, policy: tweaked(77) });
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.details).toEqual([expect.objectContaining({ path: "branchId" })]);
      expect(await t.deps.backends.database.prisma.dispatchPolicy.findUnique({ where: { branchId: branchA } })).toEqual(before);
    });

    it("names the envelope's fields in validation errors", async () => {
      const current = (await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson;
      const cases: Array<[unknown, string]> = [
        [{ ...current, policy: { ...current.policy, offerTtlSeconds: 1 } }, "policy.offerTtlSeconds"],
        [{ ...current, policy: { ...current.policy, offerTtlSeconds: "25" } }, "policy.offerTtlSeconds"],
        [{ ...current, version: "3" }, "version"],
        [{ ...current, version: -1 }, "version"],
      ];
      for (const [body, path] of cases) {
        const res = await call("PUT", policyPath(branchA), admin, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        const error = await errorOf(res);
        expect(error.details, path).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.stringContaining(path) })]));
      }
      // An unknown member is named in the message (zod reports it on the object that holds it).
      const unknown = await errorOf(await call("PUT", policyPath(branchA), admin, { ...current, turbo: true }));
      expect(unknown.details).toEqual([expect.objectContaining({ message: expect.stringContaining("turbo") })]);
      expect((await (await call("GET", policyPath(branchA), admin)).json()) as PolicyJson).toEqual(current);
    });
  });

  describe("GET /v1/branches/{id}/queue", () => {
    it("lists live requests by priority then age, and the available advisors", async () => {
      const branch = await newBranch("Queue");
      const other = await newBranch("Elsewhere");
      const manager = managerOf(branch);
      const licences = [{ kind: "insurance", number: `INS-${branch}`, validUntil: new Date(Date.now() + YEAR).toISOString() }];
      const advisor = (name: string, n: number) =>
        call("POST", "/v1/advisors", manager, {
          branchId: branch,
          name,
          languages: ["en"],
          maxConcurrent: 2,
          suitabilityMaxRisk: 5,
          licences: licences.map((l) => ({ ...l, number: `${l.number}-${n}` })),
        }).then(idOf);
      const availableId = await advisor("Free Fay", 1);
      await advisor("Offline Otto", 2);
      await t.deps.matching.engine.setPresence(availableId, "available");

      const client = await idOf(await call("POST", "/v1/clients", manager, { branchId: branch, name: "Cal", riskLevel: 2, language: "en" }));
      const outsider = await idOf(await call("POST", "/v1/clients", admin, { branchId: other, name: "Out", riskLevel: 2, language: "en" }));
      // Futures: nobody here holds that licence, so these requests stay waiting.
      const create = async (clientId: string, priority: number) => {
        const outcome = await t.deps.matching.engine.createRequest({
          clientId,
          topic: "help",
          requiredLicence: "futures",
          channel: "chat",
          mode: "dispatch",
          language: null,
          priority,
        });
        if (!outcome.ok) throw new Error(outcome.reason);
        return outcome.requestId;
      };
      const low = await create(client, 1);
      const high = await create(client, 5);
      const lowLater = await create(client, 1);
      const cancelled = await create(client, 9);
      await t.deps.matching.engine.cancel(cancelled, client);
      await create(outsider, 9);

      for (const principal of [manager, admin]) {
        const res = await call("GET", `/v1/branches/${branch}/queue`, principal);
        expect(res.status).toBe(200);
        const queue = (await res.json()) as QueueJson;
        expect(queue.waiting.map((w) => w.requestId)).toEqual([high, low, lowLater]);
        expect(queue.waiting[0]).toMatchObject({ clientId: client, requiredLicence: "futures", priority: 5 });
        expect(queue.waiting.every((w) => w.waitingSeconds >= 0 && ["dedicated", "branch", "region", "national", "queue"].includes(w.stage))).toBe(true);
        expect(queue.availableAdvisors).toEqual([
          { advisorId: availableId, name: "Free Fay", active: 0, maxConcurrent: 2, licences: [expect.objectContaining({ kind: "insurance" })] },
        ]);
      }

      const limited = (await (await call("GET", `/v1/branches/${branch}/queue?limit=1`, manager)).json()) as QueueJson;
      expect(limited.waiting.map((w) => w.requestId)).toEqual([high]);
      expect((await call("GET", `/v1/branches/${branch}/queue?limit=0`, manager)).status).toBe(400);
    });

    it("shows an empty queue for a quiet branch", async () => {
      expect(await (await call("GET", `/v1/branches/${branchB}/queue`, managerOf(branchB))).json()).toEqual({ waiting: [], availableAdvisors: [] });
    });
  });

  it("describes the branch routes in the OpenAPI document", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths["/v1/branches/{id}/dispatch-policy"] ?? {}).sort()).toEqual(["get", "put"]);
    expect(doc.paths["/v1/branches/{id}/queue"]).toBeDefined();
  });
});

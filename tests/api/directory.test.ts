/** Directory routes in-process: branches, advisors with licences, clients, and who may see what. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../api/auth/principal.ts";
import { directoryRoutes } from "../../api/routes/directory.ts";
import { authHeaders, callApp, createTestApp, errorOf, idOf, openTestDeps, type TestDeps } from "../support/testApp.ts";

const DAY = 86_400_000;
const future = (days = 365) => new Date(Date.now() + days * DAY).toISOString();
const past = (days = 365) => new Date(Date.now() - days * DAY).toISOString();

describe("directory routes (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let branchA: string;
  let branchB: string;
  let advisorA: string;
  let advisorB: string;
  let clientA: string;
  let licenceSeq = 0;

  const admin: Principal = { sub: "usr_admin", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const call = (method: string, path: string, principal: Principal | null, body?: unknown) =>
    callApp(app, t.deps.config.jwtSecret, method, path, principal, body);
  const licence = (overrides: Record<string, unknown> = {}) => ({ kind: "fund_sales", number: `FS-${++licenceSeq}`, validUntil: future(), ...overrides });
  const advisorBody = (branchId: string, overrides: Record<string, unknown> = {}) => ({
    branchId,
    name: "Ada Ashby",
    languages: ["en", "ZH"],
    maxConcurrent: 2,
    suitabilityMaxRisk: 4,
    licences: [licence()],
    ...overrides,
  });
  const clientBody = (branchId: string, overrides: Record<string, unknown> = {}) => ({ branchId, name: "Chen Li", riskLevel: 3, language: "en", ...overrides });

  beforeAll(async () => {
    t = await openTestDeps("adx-directory-");
    app = createTestApp(t.deps, directoryRoutes(t.deps));
    branchA = await idOf(await call("POST", "/v1/branches", admin, { name: "Alpha", region: "north", timezone: "Europe/London" }));
    branchB = await idOf(await call("POST", "/v1/branches", admin, { name: "Beta", region: "south" }));
    advisorA = await idOf(await call("POST", "/v1/advisors", admin, advisorBody(branchA)));
    advisorB = await idOf(await call("POST", "/v1/advisors", admin, advisorBody(branchB)));
    clientA = await idOf(await call("POST", "/v1/clients", admin, clientBody(branchA)));
  });
  afterAll(async () => {
    await t?.close();
  });

  describe("authentication", () => {
    it.each([
      ["POST", "/v1/branches"],
      ["POST", "/v1/advisors"],
      ["POST", "/v1/clients"],
      ["GET", "/v1/advisors/adv_x"],
      ["GET", "/v1/clients/cli_x"],
    ])("%s %s without a token is 401", async (method, path) => {
      const res = await call(method, path, null, method === "POST" ? {} : undefined);
      expect(res.status).toBe(401);
      expect((await errorOf(res)).code).toBe("UNAUTHENTICATED");
    });

    it("refuses a token signed with another secret", async () => {
      const res = await app.request("/v1/clients/cli_x", { headers: await authHeaders(admin, "x".repeat(40)) });
      expect(res.status).toBe(401);
    });
  });

  describe("POST /v1/branches", () => {
    it("creates a branch with a prefixed id and a canonical time zone", async () => {
      const res = await call("POST", "/v1/branches", admin, { name: "Gamma", region: "east", timezone: "asia/shanghai" });
      expect(res.status).toBe(201);
      const id = await idOf(res);
      expect(id).toMatch(/^brn_[0-9a-z]{26}$/);
      const row = await t.deps.backends.database.prisma.branch.findUniqueOrThrow({ where: { id } });
      expect(row).toMatchObject({ name: "Gamma", region: "east", timezone: "Asia/Shanghai" });
    });

    it("defaults the time zone to UTC", async () => {
      const id = await idOf(await call("POST", "/v1/branches", admin, { name: "Delta", region: "west" }));
      expect((await t.deps.backends.database.prisma.branch.findUniqueOrThrow({ where: { id } })).timezone).toBe("UTC");
    });

    it("is for admins only: managers, advisors and clients get 403", async () => {
      for (const principal of [
        managerOf(branchA),
        { sub: advisorA, role: "advisor", branchId: branchA } as Principal,
        { sub: clientA, role: "client" } as Principal,
      ]) {
        const res = await call("POST", "/v1/branches", principal, { name: "Nope", region: "north" });
        expect(res.status).toBe(403);
        expect((await errorOf(res)).code).toBe("FORBIDDEN");
      }
    });

    it("refuses a time zone that is not an IANA zone, naming the field", async () => {
      for (const timezone of ["Mars/Olympus_Mons", "+01:00", "not a zone"]) {
        const res = await call("POST", "/v1/branches", admin, { name: "Bad", region: "north", timezone });
        expect(res.status).toBe(400);
        const error = await errorOf(res);
        expect(error.code).toBe("VALIDATION_FAILED");
        expect(error.details).toEqual([expect.objectContaining({ path: "timezone" })]);
      }
    });

    it("lists every zod issue of a bad body, and refuses unknown fields and overlong strings", async () => {
      const missing = await call("POST", "/v1/branches", admin, {});
      expect(missing.status).toBe(400);
      expect((await errorOf(missing)).details?.map((d) => d.path).sort()).toEqual(["name", "region"]);
      const extra = await call("POST", "/v1/branches", admin, { name: "X", region: "north", manager: "me" });
      expect(extra.status).toBe(400);
      const long = await call("POST", "/v1/branches", admin, { name: "x".repeat(201), region: "north" });
      expect((await errorOf(long)).details).toEqual([expect.objectContaining({ path: "name" })]);
    });

    it("answers malformed JSON with 400", async () => {
      const res = await app.request("/v1/branches", { method: "POST", headers: await authHeaders(admin, t.deps.config.jwtSecret), body: "{nope" });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    });
  });

  describe("POST /v1/advisors", () => {
    it("creates the advisor with licences (admin), defaulting validFrom and issuer, lower-casing languages", async () => {
      const before = Date.now();
      const res = await call(
        "POST",
        "/v1/advisors",
        admin,
        advisorBody(branchA, { licences: [licence({ kind: "securities_advisory", number: "SA-1", issuer: "SFC" }), licence({ kind: "insurance" })] }),
      );
      expect(res.status).toBe(201);
      const id = await idOf(res);
      expect(id).toMatch(/^adv_/);
      const row = await t.deps.backends.database.prisma.advisor.findUniqueOrThrow({ where: { id }, include: { licences: { orderBy: { kind: "asc" } } } });
      expect(row).toMatchObject({ branchId: branchA, languages: ["en", "zh"], maxConcurrent: 2, suitabilityMaxRisk: 4, status: "active" });
      expect(row.licences.map((l) => [l.kind, l.issuer])).toEqual([
        ["securities_advisory", "SFC"],
        ["insurance", "unspecified"],
      ]);
      expect(row.licences.every((l) => l.id.startsWith("lic_") && l.validFrom.getTime() >= before - 1000)).toBe(true);
    });

    it("lets a manager onboard into their own branch, and makes the advisor known to the live store", async () => {
      const res = await call(
        "POST",
        "/v1/advisors",
        managerOf(branchA),
        advisorBody(branchA, { licences: [licence({ kind: "futures", validFrom: past(10) })] }),
      );
      expect(res.status).toBe(201);
      const id = await idOf(res);
      const live = await t.deps.matching.store.getAdvisor(id);
      expect(live?.profile).toMatchObject({ id, branchId: branchA, region: "north", status: "active", maxConcurrent: 2, languages: ["en", "zh"] });
      expect(live?.profile.licences.map((l) => l.kind)).toEqual(["futures"]);
      expect(live?.supply.presence).toBe("offline");
    });

    it("refuses a manager onboarding into another branch with 403, and writes nothing", async () => {
      const before = await t.deps.backends.database.prisma.advisor.count();
      const res = await call("POST", "/v1/advisors", managerOf(branchA), advisorBody(branchB));
      expect(res.status).toBe(403);
      expect(await t.deps.backends.database.prisma.advisor.count()).toBe(before);
    });

    it("refuses advisors and clients (403)", async () => {
      expect((await call("POST", "/v1/advisors", { sub: advisorA, role: "advisor", branchId: branchA }, advisorBody(branchA))).status).toBe(403);
      expect((await call("POST", "/v1/advisors", { sub: clientA, role: "client" }, advisorBody(branchA))).status).toBe(403);
    });

    it("answers 404 for an unknown branch", async () => {
      const res = await call("POST", "/v1/advisors", admin, advisorBody("brn_doesnotexist"));
      expect(res.status).toBe(404);
      expect((await errorOf(res)).code).toBe("NOT_FOUND");
    });

    it("answers 409 CONFLICT for a licence already on file, and leaves no half-written advisor", async () => {
      const prisma = t.deps.backends.database.prisma;
      await call("POST", "/v1/advisors", admin, advisorBody(branchA, { licences: [licence({ kind: "insurance", number: "INS-777" })] }));
      const [advisors, licences] = [await prisma.advisor.count(), await prisma.licence.count()];
      const res = await call(
        "POST",
        "/v1/advisors",
        admin,
        advisorBody(branchA, {
          name: "Dup Licence",
          licences: [licence({ kind: "fund_sales", number: "FS-fresh" }), licence({ kind: "insurance", number: "INS-777" })],
        }),
      );
      expect(res.status).toBe(409);
      const error = await errorOf(res);
      expect(error.code).toBe("CONFLICT");
      expect(error.message).toContain("INS-777");
      expect([await prisma.advisor.count(), await prisma.licence.count()]).toEqual([advisors, licences]);
      // The same number under another kind is a different licence.
      expect((await call("POST", "/v1/advisors", admin, advisorBody(branchA, { licences: [licence({ kind: "futures", number: "INS-777" })] }))).status).toBe(
        201,
      );
    });

    it("lists every validation issue by field", async () => {
      const res = await call("POST", "/v1/advisors", admin, {
        branchId: "adv_wrongprefix",
        name: "",
        languages: [],
        maxConcurrent: 0,
        suitabilityMaxRisk: 6,
        licences: [{ kind: "crypto", number: "X", validUntil: "tomorrow" }],
      });
      expect(res.status).toBe(400);
      const paths = (await errorOf(res)).details?.map((d) => d.path);
      expect(paths).toEqual(
        expect.arrayContaining(["branchId", "name", "languages", "maxConcurrent", "suitabilityMaxRisk", "licences.0.kind", "licences.0.validUntil"]),
      );
    });

    it("requires validFrom < validUntil, a future validUntil when validFrom is omitted, and no repeated licence", async () => {
      const inverted = await call(
        "POST",
        "/v1/advisors",
        admin,
        advisorBody(branchA, { licences: [licence({ validFrom: future(10), validUntil: future(5) })] }),
      );
      expect(inverted.status).toBe(400);
      expect((await errorOf(inverted)).details).toEqual([{ path: "licences.0.validUntil", message: "must be after validFrom" }]);
      const expired = await call("POST", "/v1/advisors", admin, advisorBody(branchA, { licences: [licence({ validUntil: past(1) })] }));
      expect((await errorOf(expired)).details).toEqual([expect.objectContaining({ path: "licences.0.validUntil" })]);
      // An expired licence with its real window is on record, not refused.
      expect(
        (await call("POST", "/v1/advisors", admin, advisorBody(branchA, { licences: [licence({ validFrom: past(400), validUntil: past(30) })] }))).status,
      ).toBe(201);
      const twice = await call("POST", "/v1/advisors", admin, advisorBody(branchA, { licences: [licence({ number: "SAME" }), licence({ number: "SAME" })] }));
      expect((await errorOf(twice)).details).toEqual([expect.objectContaining({ path: "licences.1" })]);
    });
  });

  describe("POST /v1/clients", () => {
    it("creates a client (admin) with a prefixed id", async () => {
      const res = await call("POST", "/v1/clients", admin, clientBody(branchB, { language: "ZH" }));
      expect(res.status).toBe(201);
      const id = await idOf(res);
      expect(id).toMatch(/^cli_/);
      expect(await t.deps.backends.database.prisma.client.findUniqueOrThrow({ where: { id } })).toMatchObject({
        branchId: branchB,
        riskLevel: 3,
        language: "zh",
        dedicatedAdvisorId: null,
      });
    });

    it("lets a manager register a client of their branch with a dedicated advisor of that branch", async () => {
      const res = await call("POST", "/v1/clients", managerOf(branchA), clientBody(branchA, { dedicatedAdvisorId: advisorA }));
      expect(res.status).toBe(201);
      expect((await t.deps.backends.database.prisma.client.findUniqueOrThrow({ where: { id: await idOf(res) } })).dedicatedAdvisorId).toBe(advisorA);
    });

    it("refuses a manager registering into another branch (403) and non-staff roles (403)", async () => {
      expect((await call("POST", "/v1/clients", managerOf(branchA), clientBody(branchB))).status).toBe(403);
      expect((await call("POST", "/v1/clients", { sub: advisorA, role: "advisor", branchId: branchA }, clientBody(branchA))).status).toBe(403);
      expect((await call("POST", "/v1/clients", { sub: "usr_c", role: "compliance" }, clientBody(branchA))).status).toBe(403);
    });

    it("answers 404 for an unknown branch or dedicated advisor", async () => {
      expect((await call("POST", "/v1/clients", admin, clientBody("brn_nowhere"))).status).toBe(404);
      const res = await call("POST", "/v1/clients", admin, clientBody(branchA, { dedicatedAdvisorId: "adv_nobody" }));
      expect(res.status).toBe(404);
      expect((await errorOf(res)).message).toContain("adv_nobody");
    });

    it("refuses a dedicated advisor of another branch: 409 for an admin, 404 for a manager who cannot see it", async () => {
      const asAdmin = await call("POST", "/v1/clients", admin, clientBody(branchA, { dedicatedAdvisorId: advisorB }));
      expect(asAdmin.status).toBe(409);
      const error = await errorOf(asAdmin);
      expect(error.code).toBe("CONFLICT");
      expect(error.message).toContain(branchB);
      const asManager = await call("POST", "/v1/clients", managerOf(branchA), clientBody(branchA, { dedicatedAdvisorId: advisorB }));
      expect(asManager.status).toBe(404);
    });

    it("refuses a dedicated advisor who is not active (409), writing nothing", async () => {
      const prisma = t.deps.backends.database.prisma;
      const suspended = await idOf(await call("POST", "/v1/advisors", admin, advisorBody(branchA)));
      await prisma.advisor.update({ where: { id: suspended }, data: { status: "suspended" } });
      const before = await prisma.client.count();
      const res = await call("POST", "/v1/clients", managerOf(branchA), clientBody(branchA, { dedicatedAdvisorId: suspended }));
      expect(res.status).toBe(409);
      expect((await errorOf(res)).message).toMatch(/suspended/);
      expect(await prisma.client.count()).toBe(before);
    });

    it("validates risk level, language and ids", async () => {
      const res = await call("POST", "/v1/clients", admin, {
        branchId: branchA,
        name: "X",
        riskLevel: 0,
        language: "english language",
        dedicatedAdvisorId: "cli_wrong",
      });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).details?.map((d) => d.path).sort()).toEqual(["dedicatedAdvisorId", "language", "riskLevel"]);
      expect((await call("POST", "/v1/clients", admin, clientBody(branchA, { riskLevel: 6 }))).status).toBe(400);
    });
  });

  describe("GET /v1/advisors/{id}", () => {
    it("shows the advisor with licences and live state to an admin", async () => {
      const res = await call("GET", `/v1/advisors/${advisorA}`, admin);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown> & { licences: unknown[]; live: Record<string, unknown> | null };
      expect(body).toMatchObject({
        id: advisorA,
        branchId: branchA,
        name: "Ada Ashby",
        status: "active",
        languages: ["en", "zh"],
        maxConcurrent: 2,
        suitabilityMaxRisk: 4,
        offboardedAt: null,
      });
      expect(body.licences).toEqual([expect.objectContaining({ kind: "fund_sales", issuer: "unspecified", status: "active", verifiedAt: null })]);
      expect(body.live).toEqual({ presence: "offline", heartbeatAt: null, active: 0, pendingPush: 0 });
    });

    it("reflects presence from the live store", async () => {
      await t.deps.matching.engine.setPresence(advisorA, "available");
      const body = (await (await call("GET", `/v1/advisors/${advisorA}`, managerOf(branchA))).json()) as { live: { presence: string; heartbeatAt: string } };
      expect(body.live.presence).toBe("available");
      expect(Date.parse(body.live.heartbeatAt)).toBeGreaterThan(Date.now() - 60_000);
      await t.deps.matching.engine.setPresence(advisorA, "offline");
    });

    it("shows the advisor to themself, and their branch's manager", async () => {
      expect((await call("GET", `/v1/advisors/${advisorA}`, { sub: advisorA, role: "advisor", branchId: branchA })).status).toBe(200);
      expect((await call("GET", `/v1/advisors/${advisorA}`, managerOf(branchA))).status).toBe(200);
    });

    it("hides another branch's advisor (404, same as unknown) from a manager, and other advisors from an advisor", async () => {
      const other = await call("GET", `/v1/advisors/${advisorB}`, managerOf(branchA));
      const unknown = await call("GET", "/v1/advisors/adv_unknown", managerOf(branchA));
      expect([other.status, unknown.status]).toEqual([404, 404]);
      expect((await errorOf(other)).code).toBe("NOT_FOUND");
      expect((await call("GET", `/v1/advisors/${advisorB}`, { sub: advisorA, role: "advisor", branchId: branchA })).status).toBe(404);
    });

    it("refuses clients and compliance (403), and bad ids (400)", async () => {
      expect((await call("GET", `/v1/advisors/${advisorA}`, { sub: clientA, role: "client" })).status).toBe(403);
      expect((await call("GET", `/v1/advisors/${advisorA}`, { sub: "usr_c", role: "compliance" })).status).toBe(403);
      const bad = await call("GET", `/v1/advisors/${clientA}`, admin);
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).details).toEqual([expect.objectContaining({ path: "id" })]);
    });
  });

  describe("GET /v1/clients/{id}", () => {
    it("shows the client to an admin, their branch's manager and themself", async () => {
      for (const principal of [admin, managerOf(branchA), { sub: clientA, role: "client" } as Principal]) {
        const res = await call("GET", `/v1/clients/${clientA}`, principal);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ id: clientA, branchId: branchA, name: "Chen Li", riskLevel: 3, language: "en", dedicatedAdvisorId: null });
      }
    });

    it("hides the client from another branch's manager and other clients (404)", async () => {
      expect((await call("GET", `/v1/clients/${clientA}`, managerOf(branchB))).status).toBe(404);
      expect((await call("GET", `/v1/clients/${clientA}`, { sub: "cli_someoneelse", role: "client" })).status).toBe(404);
      expect((await call("GET", "/v1/clients/cli_unknown", admin)).status).toBe(404);
    });

    it("refuses advisors (403)", async () => {
      expect((await call("GET", `/v1/clients/${clientA}`, { sub: advisorA, role: "advisor", branchId: branchA })).status).toBe(403);
    });
  });

  it("describes every directory route in the OpenAPI document", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/branches", "/v1/advisors", "/v1/clients", "/v1/advisors/{id}", "/v1/clients/{id}"]));
  });
});

/**
 * GET /v1/branches/{id}/staffing in-process on the embedded backends, on the KPIs' scripted day
 * with the clock two days after it: the JSON shape (the figures are worked out in
 * tests/reporting/staffing.test.ts), the target's defaults and parameters, who may ask, and the 400s.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../api/auth/principal.ts";
import { staffingRoutes } from "../../api/routes/staffing.ts";
import { callApp, createTestApp, errorOf, openTestDeps, type TestDeps } from "../support/testApp.ts";
import { insertScriptedDay, type ScriptedDay } from "../reporting/support/scriptedDay.ts";

const NOW = Date.parse("2026-03-12T00:00:00Z");
const HOUR_KEYS = [
  "advisorsAvailable",
  "advisorsNeeded",
  "arrivals",
  "erlangs",
  "expectedServiceLevel",
  "handleBasis",
  "handleSeconds",
  "handledInHour",
  "localHour",
  "observedSeconds",
  "start",
  "surge",
  "underTarget",
].sort();

describe("GET /v1/branches/{id}/staffing (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let day: ScriptedDay;
  const admin: Principal = { sub: "usr_admin", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const get = (path: string, principal: Principal | null) => callApp(app, t.deps.config.jwtSecret, "GET", path, principal);
  const staffingPath = (query: Record<string, string>, branchId = day.branchId) => `/v1/branches/${branchId}/staffing?${new URLSearchParams(query)}`;

  beforeAll(async () => {
    t = await openTestDeps("adx-staffing-");
    // The clock the route reads "today" from, fixed two days after the scripted day.
    const deps = { ...t.deps, matching: { ...t.deps.matching, clock: { now: () => NOW } } };
    app = createTestApp(t.deps, staffingRoutes(deps as typeof t.deps));
    day = await insertScriptedDay(t.deps.backends.database.prisma);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("answers the shape: the day's 24 hours, the default target 80% in 20 s, the model and basis, the hour under target with its surge", async () => {
    const res = await get(staffingPath({ date: "2026-03-10" }), managerOf(day.branchId));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { hours: Array<Record<string, unknown>> };
    expect(Object.keys(body).sort()).toEqual(["basis", "branchHandleSeconds", "branchId", "date", "hours", "model", "target", "timezone", "underTargetHours"]);
    expect(body).toMatchObject({
      branchId: day.branchId,
      timezone: "Asia/Kolkata",
      date: "2026-03-10",
      target: { percent: 80, seconds: 20 },
      underTargetHours: 1,
    });
    expect(body.model).toContain("Erlang C");
    expect(body.hours).toHaveLength(24);
    for (const hour of body.hours) expect(Object.keys(hour).sort()).toEqual(HOUR_KEYS);
    expect(body.hours[12]).toMatchObject({
      localHour: 12,
      arrivals: 2,
      advisorsNeeded: 1,
      advisorsAvailable: { mean: 0, max: 0 },
      underTarget: true,
      surge: { multiplier: 1.25, rule: { on: "offer.accepted", when: { localHourIn: { from: 12, to: 13 } }, award: { multiplier: 1.25 } } },
    });
    expect(body.hours[9]).toMatchObject({ localHour: 9, arrivals: 3, handleBasis: "hour", advisorsNeeded: 1, underTarget: false, surge: null });
  });

  it("takes the target as parameters: 99% within 1 s needs a second advisor in every hour with arrivals, none had two", async () => {
    const res = await get(staffingPath({ date: "2026-03-10", targetPercent: "99", targetSeconds: "1" }), admin);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { target: unknown; underTargetHours: number; hours: Array<{ advisorsNeeded: number; underTarget: boolean }> };
    expect(body.target).toEqual({ percent: 99, seconds: 1 });
    expect(body.hours[9]).toMatchObject({ advisorsNeeded: 2, underTarget: true });
    // 09:00-13:00 had requests; one advisor answers 99% within 1 s in none of them (M/M/1 at about
    // 0.92-0.95), and no hour had two on average (09:00 had 1.75).
    expect(body.underTargetHours).toBe(5);
  });

  it("admins and the branch's manager only: another branch's manager 403, other roles 403, no token 401", async () => {
    const path = staffingPath({ date: "2026-03-10" });
    expect((await get(path, admin)).status).toBe(200);
    const other = await get(path, managerOf(day.otherBranchId));
    expect(other.status).toBe(403);
    expect((await errorOf(other)).code).toBe("FORBIDDEN");
    for (const principal of [
      { sub: "adv_x", role: "advisor", branchId: day.branchId },
      { sub: "cli_x", role: "client" },
      { sub: "usr_c", role: "compliance" },
    ] as Principal[]) {
      expect((await get(path, principal)).status, principal.role).toBe(403);
    }
    expect((await get(path, null)).status).toBe(401);
  });

  it("404 for an unknown branch", async () => {
    const res = await get(staffingPath({ date: "2026-03-10" }, "brn_nowhere0000"), admin);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("NOT_FOUND");
  });

  it("400 VALIDATION_FAILED for a missing, malformed, impossible, future or too old date, and targets out of range", async () => {
    const date = "2026-03-10";
    const cases: Array<[Record<string, string>, string]> = [
      [{}, ""],
      [{ date: "10/03/2026" }, "YYYY-MM-DD"],
      [{ date: "2026-02-30" }, "calendar date"],
      [{ date: "2026-03-13" }, "after the branch's today (2026-03-12)"],
      [{ date: "2025-02-04" }, "at most 400 days"],
      [{ date, targetPercent: "0" }, ""],
      [{ date, targetPercent: "100" }, ""],
      [{ date, targetPercent: "lots" }, ""],
      [{ date, targetSeconds: "0" }, ""],
      [{ date, targetSeconds: "601" }, ""],
      [{ date, targetSeconds: "2.5" }, ""],
    ];
    for (const [query, message] of cases) {
      const res = await get(staffingPath(query), admin);
      expect(res.status, JSON.stringify(query)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      if (message) expect(JSON.stringify(error), JSON.stringify(query)).toContain(message);
    }
    // Just inside the bounds: today, 400 days back, the extreme targets.
    const inside: Array<Record<string, string>> = [
      { date: "2026-03-12" },
      { date: "2025-02-05" },
      { date, targetPercent: "1", targetSeconds: "600" },
      { date, targetPercent: "99", targetSeconds: "1" },
    ];
    for (const query of inside) {
      expect((await get(staffingPath(query), admin)).status, JSON.stringify(query)).toBe(200);
    }
  });

  it("is in the OpenAPI document with its query parameters and response schema", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, { get?: { parameters?: Array<{ name: string; in: string; required?: boolean }> } }>;
      components: { schemas: Record<string, unknown> };
    };
    const op = doc.paths["/v1/branches/{id}/staffing"]?.get;
    expect(op).toBeDefined();
    expect(op?.parameters?.map((p) => `${p.in}:${p.name}${p.required ? "!" : ""}`).sort()).toEqual([
      "path:id!",
      "query:date!",
      "query:targetPercent",
      "query:targetSeconds",
    ]);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["BranchStaffing", "StaffingHour", "IncentiveRule"]));
  });
});

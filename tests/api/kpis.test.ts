/**
 * GET /v1/branches/{id}/kpis in-process on the embedded backends: the JSON shape on the scripted day
 * (the figures themselves are worked out in tests/reporting/kpis.test.ts), who may ask, and the 400s
 * for a range it will not report.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../api/auth/principal.ts";
import { KPI_QUERIES_IN_FLIGHT, reportingRoutes } from "../../api/routes/reporting.ts";
import { authHeaders, callApp, createTestApp, errorOf, openTestDeps, type TestDeps } from "../support/testApp.ts";
import { insertScriptedDay, local, type ScriptedDay } from "../reporting/support/scriptedDay.ts";

const KPI_KEYS = [
  "created",
  "assigned",
  "completed",
  "abandoned",
  "callbacks",
  "answerRate",
  "abandonmentRate",
  "timeToFirstOfferMs",
  "timeToAcceptMs",
  "answeredByStage",
  "offers",
  "declineRate",
  "timeoutRate",
  "utilisation",
  "meanRating",
  "pointsPerCompleted",
].sort();

describe("GET /v1/branches/{id}/kpis (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let day: ScriptedDay;
  const admin: Principal = { sub: "usr_admin", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const get = (path: string, principal: Principal | null) => callApp(app, t.deps.config.jwtSecret, "GET", path, principal);
  const kpisPath = (query: Record<string, string>, branchId = day.branchId) => `/v1/branches/${branchId}/kpis?${new URLSearchParams(query)}`;
  const dayRange = { from: local("00:00").toISOString(), to: local("00:00", "2026-03-11").toISOString() };

  beforeAll(async () => {
    t = await openTestDeps("adx-kpis-");
    app = createTestApp(t.deps, reportingRoutes(t.deps));
    day = await insertScriptedDay(t.deps.backends.database.prisma);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it("answers the contract's shape: the range, the branch's timezone, every bucket and the total", async () => {
    const res = await get(kpisPath({ ...dayRange, bucket: "hour" }), managerOf(day.branchId));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { buckets: Array<Record<string, unknown>>; total: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(["branchId", "bucket", "buckets", "from", "timezone", "to", "total"]);
    expect(body).toMatchObject({
      branchId: day.branchId,
      timezone: "Asia/Kolkata",
      from: "2026-03-09T18:30:00.000Z",
      to: "2026-03-10T18:30:00.000Z",
      bucket: "hour",
    });
    expect(body.buckets).toHaveLength(24);
    expect(Object.keys(body.total).sort()).toEqual(KPI_KEYS);
    for (const bucket of body.buckets) expect(Object.keys(bucket).sort()).toEqual([...KPI_KEYS, "start"].sort());
    expect(body.buckets[9]).toMatchObject({ start: "2026-03-10T03:30:00.000Z", created: 3, pointsPerCompleted: 50 / 3 });
    // Utilisation from the scripted presence (hand-worked in tests/reporting/kpis.test.ts): the day's
    // assigned seconds over its available seconds.
    const utilisation = (295 + (14 * 3_600 - 5) + 60 + 20 + 117) / (7_200 + 8_100 + 5_400 + 11 * 3_600);
    expect(body.total).toMatchObject({ created: 10, assigned: 7, answerRate: 0.7, utilisation, timeToAcceptMs: { p50: 15_000 } });
  });

  it("defaults to day buckets", async () => {
    const body = (await (await get(kpisPath(dayRange), admin)).json()) as { bucket: string; buckets: Array<{ start: string; created: number }> };
    expect(body.bucket).toBe("day");
    expect(body.buckets).toEqual([expect.objectContaining({ start: "2026-03-09T18:30:00.000Z", created: 10 })]);
  });

  it("admins and the branch's manager only: another branch's manager 403, other roles 403, no token 401", async () => {
    expect((await get(kpisPath(dayRange), admin)).status).toBe(200);
    expect((await get(kpisPath(dayRange), managerOf(day.branchId))).status).toBe(200);
    const other = await get(kpisPath(dayRange), managerOf(day.otherBranchId));
    expect(other.status).toBe(403);
    expect((await errorOf(other)).code).toBe("FORBIDDEN");
    for (const principal of [
      { sub: "adv_x", role: "advisor", branchId: day.branchId },
      { sub: "cli_x", role: "client" },
      { sub: "usr_c", role: "compliance" },
    ] as Principal[]) {
      expect((await get(kpisPath(dayRange), principal)).status, principal.role).toBe(403);
    }
    expect((await get(kpisPath(dayRange), null)).status).toBe(401);
  });

  it("404 for an unknown branch", async () => {
    const res = await get(kpisPath(dayRange, "brn_nowhere0000"), admin);
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("NOT_FOUND");
  });

  it("400 VALIDATION_FAILED for from >= to, over 400 days, too many buckets, a bad bucket or instant, a missing bound", async () => {
    const from = "2026-01-01T00:00:00Z";
    const cases: Array<[Record<string, string>, string]> = [
      [{ from, to: from }, "from must be before to"],
      [{ from: "2026-02-01T00:00:00Z", to: from }, "from must be before to"],
      [{ from, to: "2027-02-06T00:00:00Z" }, "at most 400 days"],
      [{ from, to: "2026-03-26T00:00:00Z", bucket: "hour" }, "2016 hour buckets"],
      [{ from, to: "2026-01-02T00:00:00Z", bucket: "week" }, ""],
      [{ from: "yesterday", to: "2026-01-02T00:00:00Z" }, ""],
      [{ from: "2026-01-01T00:00:00", to: "2026-01-02T00:00:00Z" }, ""],
      [{ from }, ""],
    ];
    for (const [query, message] of cases) {
      const res = await get(kpisPath(query), admin);
      expect(res.status, JSON.stringify(query)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      if (message) expect(JSON.stringify(error.details), JSON.stringify(query)).toContain(message);
    }
    // Just inside the limits.
    expect((await get(kpisPath({ from, to: "2027-02-05T00:00:00Z" }), admin)).status).toBe(200);
    expect((await get(kpisPath({ from, to: "2026-03-25T00:00:00Z", bucket: "hour" }), admin)).status).toBe(200);
  });
  it("runs at most KPI_QUERIES_IN_FLIGHT reports at once: the rest answer 503 with Retry-After at once, then reports run again", async () => {
    // One token for all, so the calls reach the route in the same tick rather than as each is signed.
    const headers = await authHeaders(admin, t.deps.config.jwtSecret);
    // A burst of 8 overlaps only while the first reports are still running; on a busy machine they
    // can reach the route one after another, so up to 5 bursts are sent until one overlaps.
    let calls: Response[] = [];
    let refused: Response[] = [];
    for (let burst = 0; burst < 5 && refused.length === 0; burst++) {
      calls = await Promise.all(Array.from({ length: 8 }, () => app.request(kpisPath({ ...dayRange, bucket: "hour" }), { headers })));
      const statuses = calls.map((res) => res.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(KPI_QUERIES_IN_FLIGHT);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      refused = calls.filter((res) => res.status === 503);
    }
    expect(refused.length).toBeGreaterThan(0);
    for (const res of refused) {
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await errorOf(res)).code).toBe("UNAVAILABLE");
    }
    // The places were given back.
    expect((await get(kpisPath(dayRange), admin)).status).toBe(200);
  });
});

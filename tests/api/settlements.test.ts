/**
 * Settled incentive periods over HTTP, in-process on the embedded backends: real awards are posted
 * and real periods settled (settlePeriod), then read back as a paged list, as a JSON report and as
 * the payroll CSV download; another branch's manager, other roles, unknown ids and bad cursors are
 * refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../api/auth/principal.ts";
import { directoryRoutes } from "../../api/routes/directory.ts";
import { incentiveRoutes } from "../../api/routes/incentives.ts";
import { newId } from "../../core/ids.ts";
import { fundBudget, postAward } from "../../incentives/ledger/awards.ts";
import { previousWeek } from "../../incentives/periods.ts";
import { settlementCsv, settlePeriod, type SettlementRecord } from "../../incentives/settlement.ts";
import { authHeaders, callApp, createTestApp, errorOf, idOf, openTestDeps, type TestDeps } from "../support/testApp.ts";

interface SummaryJson {
  id: string;
  branchId: string;
  periodKey: string;
  start: string;
  end: string;
  closedAt: string;
  advisors: number;
  points: number;
}
interface PageJson {
  items: SummaryJson[];
  nextCursor: string | null;
}

const WEEK = 7 * 86_400_000;
/** Monday 2026-03-30 09:00 in London: weeks 11, 12 and 13 are closed. */
const NOW = Date.parse("2026-03-30T08:00:00Z");
const LONDON = "Europe/London";

describe("settlement reports over HTTP (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let branchA: string;
  let branchB: string;
  /** Branch A's settlements of weeks 11 (empty), 12 and 13, oldest first. */
  let settled: SettlementRecord[];
  let advisors: string[];

  const admin: Principal = { sub: "usr_admin_stl", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const call = (method: string, path: string, principal: Principal | null, body?: unknown) =>
    callApp(app, t.deps.config.jwtSecret, method, path, principal, body);
  const get = async (path: string, principal: Principal, headers: Record<string, string> = {}) =>
    app.request(path, { headers: { ...(await authHeaders(principal, t.deps.config.jwtSecret)), ...headers } });
  const listPath = (branchId: string) => `/v1/branches/${branchId}/settlements`;

  beforeAll(async () => {
    t = await openTestDeps("adx-settlements-");
    app = createTestApp(t.deps, directoryRoutes(t.deps), incentiveRoutes(t.deps));
    const prisma = t.deps.backends.database.prisma;
    branchA = await idOf(await call("POST", "/v1/branches", admin, { name: "Paid", region: "north", timezone: LONDON }));
    branchB = await idOf(await call("POST", "/v1/branches", admin, { name: "Other", region: "north", timezone: LONDON }));
    const advisor = (name: string, n: number) =>
      call("POST", "/v1/advisors", admin, {
        branchId: branchA,
        name,
        languages: ["en"],
        maxConcurrent: 2,
        suitabilityMaxRisk: 5,
        licences: [{ kind: "insurance", number: `INS-STL-${branchA}-${n}`, validUntil: "2099-01-01T00:00:00Z" }],
      }).then(idOf);
    advisors = [await advisor("Ann", 1), await advisor("Bob", 2)];

    const weeks = [previousWeek(NOW - 2 * WEEK, LONDON), previousWeek(NOW - WEEK, LONDON), previousWeek(NOW, LONDON)];
    let event = 0;
    const award = async (advisorId: string, ruleId: string, points: number, at: number) => {
      const result = await postAward(prisma, {
        eventId: `evt_stl${event++}`,
        ruleId,
        ruleSetVersion: 1,
        branchId: branchA,
        advisorId,
        points,
        at: new Date(at),
      });
      if (!result.ok || result.decision.status !== "posted") throw new Error(`award not posted: ${JSON.stringify(result)}`);
    };
    for (const week of weeks) expect(await fundBudget(prisma, { branchId: branchA, points: 1_000, periodKey: week.key })).toMatchObject({ ok: true });
    // Week 11: nothing earned. Week 12: Ann only. Week 13: both, two rules for Ann.
    await award(advisors[0]!, "fast_accept", 4, weeks[1]!.start + 3_600_000);
    await award(advisors[0]!, "fast_accept", 10, weeks[2]!.start + 3_600_000);
    await award(advisors[0]!, "five_stars", 5, weeks[2]!.start + 7_200_000);
    await award(advisors[1]!, "fast_accept", 7, weeks[2]!.end - 1);
    settled = [];
    for (const week of weeks) settled.push((await settlePeriod(prisma, { branchId: branchA, ...week, now: week.end + 3_600_000 })).settlement);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("lists the branch's settled periods newest first, in pages", async () => {
    const res = await call("GET", listPath(branchA), managerOf(branchA));
    expect(res.status).toBe(200);
    const page = (await res.json()) as PageJson;
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((s) => s.periodKey)).toEqual(["2026-W13", "2026-W12", "2026-W11"]);
    const [w13] = settled.slice(-1);
    expect(page.items[0]).toEqual({
      id: w13!.id,
      branchId: branchA,
      periodKey: "2026-W13",
      start: "2026-03-23T00:00:00.000Z",
      end: "2026-03-29T23:00:00.000Z",
      closedAt: w13!.closedAt.toISOString(),
      advisors: 2,
      points: 22,
    });
    expect(page.items.map((s) => [s.advisors, s.points])).toEqual([
      [2, 22],
      [1, 4],
      [0, 0],
    ]);

    // One at a time: each page continues strictly after the last, and the last says so.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const next = (await (await call("GET", `${listPath(branchA)}?limit=1${cursor ? `&cursor=${cursor}` : ""}`, admin)).json()) as PageJson;
      expect(next.items).toHaveLength(1);
      seen.push(next.items[0]!.periodKey);
      cursor = next.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["2026-W13", "2026-W12", "2026-W11"]);

    // Another branch's list has none of them.
    expect(await (await call("GET", listPath(branchB), managerOf(branchB))).json()).toEqual({ items: [], nextCursor: null });
  });

  it("refuses a malformed cursor or limit with 400 VALIDATION_FAILED", async () => {
    const forged = Buffer.from(JSON.stringify({ at: "x", id: "stl_1" })).toString("base64url");
    for (const query of ["cursor=not-a-cursor!", `cursor=${forged}`, "cursor=", "limit=0", "limit=201", "limit=ten"]) {
      const res = await call("GET", `${listPath(branchA)}?${query}`, admin);
      expect(res.status, query).toBe(400);
      expect((await errorOf(res)).code).toBe("VALIDATION_FAILED");
    }
  });

  it("answers one settlement as its JSON report", async () => {
    const w13 = settled[2]!;
    const res = await call("GET", `${listPath(branchA)}/${w13.id}`, managerOf(branchA));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as SummaryJson & { report: unknown };
    expect(body).toMatchObject({ id: w13.id, branchId: branchA, periodKey: "2026-W13", advisors: 2, points: 22 });
    expect(body.report).toEqual(w13.report);
    const [ann, bob] = [...advisors].sort();
    expect(body.report).toMatchObject({
      period: { key: "2026-W13", start: "2026-03-23T00:00:00.000Z", end: "2026-03-29T23:00:00.000Z" },
      totals: { points: 22, awards: 3, advisors: 2 },
    });
    expect((body.report as { advisors: Array<{ advisorId: string }> }).advisors.map((a) => a.advisorId)).toEqual([ann, bob]);
    // An explicit JSON Accept, and a format=json that overrides a CSV Accept, answer the same.
    for (const [query, accept] of [
      ["", "application/json"],
      ["?format=json", "text/csv"],
    ]) {
      const again = await get(`${listPath(branchA)}/${w13.id}${query}`, admin, { accept: accept! });
      expect(await again.json()).toEqual(body);
    }
  });

  it("answers the payroll CSV as a download for ?format=csv or Accept: text/csv", async () => {
    const w13 = settled[2]!;
    const expected = settlementCsv(w13.report);
    expect(expected).toBe(w13.csv);
    expect(expected.split("\r\n")[0]).toBe("advisor_id,points,awards");
    for (const [query, accept] of [
      ["?format=csv", "*/*"],
      ["", "text/csv"],
      ["", "text/csv;q=0.9, application/json;q=0.5"],
    ]) {
      const res = await get(`${listPath(branchA)}/${w13.id}${query}`, managerOf(branchA), { accept: accept! });
      expect(res.status, `${query} ${accept}`).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="settlement-${branchA}-2026-W13.csv"`);
      expect(await res.text()).toBe(expected);
    }
    // The empty week is a header line only.
    const empty = await get(`${listPath(branchA)}/${settled[0]!.id}?format=csv`, admin);
    expect(await empty.text()).toBe("advisor_id,points,awards\r\n");
    expect((await call("GET", `${listPath(branchA)}/${settled[0]!.id}?format=xml`, admin)).status).toBe(400);
  });

  it("refuses another branch's manager (403), other roles (403), and unknown or foreign ids (404)", async () => {
    const id = settled[2]!.id;
    for (const path of [listPath(branchA), `${listPath(branchA)}/${id}`, `${listPath(branchA)}/${id}?format=csv`]) {
      expect((await call("GET", path, null)).status, path).toBe(401);
      for (const principal of [
        managerOf(branchB),
        { sub: advisors[0]!, role: "advisor", branchId: branchA } as Principal,
        { sub: "cli_x", role: "client" } as Principal,
        { sub: "usr_c", role: "compliance" } as Principal,
      ]) {
        const res = await call("GET", path, principal);
        expect(res.status, `${path} as ${principal.role}`).toBe(403);
        expect((await errorOf(res)).code).toBe("FORBIDDEN");
      }
    }
    // Branch A's settlement under branch B's path: B's manager may ask, and it is not there.
    const foreign = await call("GET", `${listPath(branchB)}/${id}`, managerOf(branchB));
    expect(foreign.status).toBe(404);
    expect((await errorOf(foreign)).code).toBe("NOT_FOUND");
    expect((await call("GET", `${listPath(branchA)}/${newId("settlement")}`, managerOf(branchA))).status).toBe(404);
    expect((await call("GET", `${listPath(branchA)}/${newId("settlement")}?format=csv`, admin)).status).toBe(404);
    expect((await call("GET", listPath("brn_unknown"), admin)).status).toBe(404);
    expect((await call("GET", `${listPath(branchA)}/adv_notasettlement`, admin)).status).toBe(400);
  });

  it("describes both routes, JSON and CSV, in the OpenAPI document", async () => {
    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>;
    };
    expect(doc.paths["/v1/branches/{id}/settlements"]?.get).toBeDefined();
    const detail = doc.paths["/v1/branches/{id}/settlements/{settlementId}"]?.get;
    expect(Object.keys(detail!.responses["200"]!.content).sort()).toEqual(["application/json", "text/csv"]);
  });
});

/**
 * The list routes (issue 14) in-process on the real app (api/app.ts, so route order is the real
 * one) over embedded backends: cursor pagination with no duplicates or gaps (ties on createdAt
 * included), every filter, 400s for bad cursors, limits and filters, role scoping, and the live
 * state advisors are shown with. Bulk rows are written straight into PostgreSQL (our real storage)
 * with chosen createdAt values; the live parts go through the API and the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Principal } from "../../api/auth/principal.ts";
import { encodeCursor } from "../../core/cursor.ts";
import { newId } from "../../core/ids.ts";
import { authHeaders, openTestDeps, type TestDeps } from "../support/testApp.ts";

type Json = any;
type Status = "pending" | "offered" | "assigned" | "completed" | "cancelled" | "expired";

const REQUEST_KEYS = [
  "id",
  "clientId",
  "branchId",
  "status",
  "stage",
  "topic",
  "requiredLicence",
  "channel",
  "mode",
  "priority",
  "assignedAdvisorId",
  "callbackRequested",
  "createdAt",
  "offeredAt",
  "assignedAt",
  "completedAt",
  "cancelledAt",
  "expiredAt",
].sort();
const ADVISOR_KEYS = ["id", "branchId", "name", "status", "maxConcurrent", "languages", "suitabilityMaxRisk", "licences", "live"].sort();
const T0 = Date.UTC(2025, 2, 1, 12, 0, 0);
const MIN = 60_000;

describe("list routes (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createApp>;
  let branchA: string;
  let branchB: string;
  const adv: Record<"a1" | "a2" | "a3" | "b1", string> = { a1: "", a2: "", a3: "", b1: "" };
  const cli: Record<"a1" | "a2" | "b1", string> = { a1: "", a2: "", b1: "" };
  /** The live request: created by client a1, assigned to advisor a1, completed and rated 4. */
  let liveRequestId: string;
  /** Every bulk row written for branch A: id, createdAt, status, clientId, assignedAdvisorId. */
  const bulkA: Array<{ id: string; createdAt: number; status: Status; clientId: string; assignedAdvisorId: string | null }> = [];

  const admin: Principal = { sub: "usr_admin", role: "admin" };
  const managerOf = (branchId: string): Principal => ({ sub: `usr_mgr_${branchId}`, role: "manager", branchId });
  const client = (id: string): Principal => ({ sub: id, role: "client" });
  const advisor = (id: string, branchId = branchA): Principal => ({ sub: id, role: "advisor", branchId });

  const call = async (method: string, path: string, principal: Principal | null, body?: unknown): Promise<{ status: number; body: Json }> => {
    const headers = principal ? await authHeaders(principal, t.deps.config.jwtSecret) : { "content-type": "application/json" };
    const res = await app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: await res.json() };
  };
  const created = async (path: string, body: unknown): Promise<string> => {
    const res = await call("POST", path, admin, body);
    if (res.status !== 201) throw new Error(`fixture ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const get = async (path: string, principal: Principal) => {
    const res = await call("GET", path, principal);
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  };
  /** Every page of a list, following nextCursor; checks each page's size on the way. */
  const collect = async (path: string, principal: Principal, limit: number): Promise<Json[]> => {
    const items: Json[] = [];
    const sep = path.includes("?") ? "&" : "?";
    let cursor: string | null = null;
    for (let pages = 0; pages < 500; pages++) {
      const body: Json = await get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, principal);
      expect(body.items.length).toBeLessThanOrEqual(limit);
      if (body.nextCursor !== null) expect(body.items.length).toBe(limit);
      items.push(...body.items);
      cursor = body.nextCursor;
      if (cursor === null) return items;
    }
    throw new Error("pagination did not end");
  };
  const ids = (items: Json[]) => items.map((i) => i.id as string);
  /** Newest first, ties by id descending: the order of every request list. */
  const newestFirst = <R extends { createdAt: number; id: string }>(rows: R[]) =>
    [...rows].sort((x, y) => y.createdAt - x.createdAt || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0)).map((r) => r.id);

  const advisorBody = (branchId: string, n: string, maxConcurrent = 2) => ({
    branchId,
    name: `Advisor ${n}`,
    languages: ["en"],
    maxConcurrent,
    suitabilityMaxRisk: 5,
    licences: [{ kind: "fund_sales", number: `FS-LIST-${n}`, validUntil: "2099-01-01T00:00:00.000Z" }],
  });

  async function waitFor<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const value = await read();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** A request by client a1 (dedicated advisor a1): offered to a1, accepted, completed, rated 4. */
  async function liveRequest(): Promise<string> {
    expect((await call("PUT", "/v1/advisors/me/presence", advisor(adv.a1), { status: "available" })).status).toBe(200);
    expect((await call("PUT", "/v1/advisors/me/presence", advisor(adv.a2), { status: "away" })).status).toBe(200);
    const res = await call("POST", "/v1/requests", client(cli.a1), { topic: "pension", requiredLicence: "fund_sales", channel: "chat", mode: "dispatch" });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const requestId = res.body.id as string;
    const offerId = await waitFor("the offer", async () => {
      const offers = (await call("GET", "/v1/advisors/me/offers", advisor(adv.a1))).body as Array<{ offerId: string; requestId: string }>;
      return offers.find((o) => o.requestId === requestId)?.offerId;
    });
    expect((await call("POST", `/v1/offers/${offerId}/accept`, advisor(adv.a1))).status).toBe(200);
    // The record learns of the assignment through the journal: the lists read the record.
    const prisma = t.deps.backends.database.prisma;
    await waitFor("the assignment in the record", async () => {
      const row = await prisma.serviceRequest.findUnique({ where: { id: requestId }, select: { status: true } });
      return row?.status === "assigned" ? true : undefined;
    });
    return requestId;
  }

  async function bulkRequests(): Promise<void> {
    const prisma = t.deps.backends.database.prisma;
    const statuses: Status[] = ["pending", "offered", "assigned", "completed", "cancelled", "expired"];
    const rows = [];
    for (let i = 0; i < 37; i++) {
      // Every third row shares its createdAt with the next one: the id must break the tie.
      const createdAt = T0 + Math.floor(i / 3) * 2 * MIN + (i % 3 === 2 ? 1 : 0) * MIN;
      const status = statuses[i % statuses.length]!;
      const assigned = status === "assigned" || status === "completed" ? (i % 2 === 0 ? adv.a2 : adv.a3) : null;
      const row = { id: newId("request", createdAt), createdAt, status, clientId: i % 4 === 0 ? cli.a2 : cli.a1, assignedAdvisorId: assigned };
      bulkA.push(row);
      rows.push({
        ...row,
        branchId: branchA,
        createdAt: new Date(createdAt),
        topic: `bulk ${i}`,
        requiredLicence: "fund_sales" as const,
        channel: "chat" as const,
      });
    }
    for (let i = 0; i < 5; i++) {
      const createdAt = T0 + i * MIN;
      rows.push({
        id: newId("request", createdAt),
        clientId: cli.b1,
        branchId: branchB,
        createdAt: new Date(createdAt),
        status: "assigned" as const,
        assignedAdvisorId: adv.b1,
        topic: `other ${i}`,
        requiredLicence: "fund_sales" as const,
        channel: "chat" as const,
      });
    }
    await prisma.serviceRequest.createMany({ data: rows });
  }

  beforeAll(async () => {
    t = await openTestDeps("adx-lists-");
    app = createApp(t.deps);
    branchA = await created("/v1/branches", { name: "Alpha", region: "north", timezone: "Europe/London" });
    branchB = await created("/v1/branches", { name: "Beta", region: "south" });
    adv.a1 = await created("/v1/advisors", advisorBody(branchA, "a1", 3));
    adv.a2 = await created("/v1/advisors", advisorBody(branchA, "a2"));
    adv.a3 = await created("/v1/advisors", advisorBody(branchA, "a3"));
    adv.b1 = await created("/v1/advisors", advisorBody(branchB, "b1"));
    cli.a1 = await created("/v1/clients", { branchId: branchA, name: "Client a1", riskLevel: 2, language: "en", dedicatedAdvisorId: adv.a1 });
    cli.a2 = await created("/v1/clients", { branchId: branchA, name: "Client a2", riskLevel: 2, language: "en" });
    cli.b1 = await created("/v1/clients", { branchId: branchB, name: "Client b1", riskLevel: 2, language: "en" });
    liveRequestId = await liveRequest();
    await bulkRequests();
  });
  afterAll(async () => {
    await t?.close();
  });

  describe("GET /v1/branches", () => {
    it("shows an admin every branch, oldest first, in pages of one without duplicates or gaps", async () => {
      const extra = [];
      for (let i = 0; i < 3; i++) extra.push(await created("/v1/branches", { name: `Extra ${i}`, region: "east" }));
      const all = await collect("/v1/branches", admin, 1);
      expect(ids(all)).toEqual([branchA, branchB, ...extra]);
      expect(Object.keys(all[0]).sort()).toEqual(["createdAt", "id", "name", "region", "timezone"]);
      expect(all[0]).toMatchObject({ id: branchA, name: "Alpha", region: "north", timezone: "Europe/London" });
      expect(new Date(all[0].createdAt).toISOString()).toBe(all[0].createdAt);
      // The default limit covers them all in one page.
      expect(await get("/v1/branches", admin)).toEqual({ items: all, nextCursor: null });
    });

    it("shows a manager their own branch only", async () => {
      expect(ids((await get("/v1/branches", managerOf(branchB))).items)).toEqual([branchB]);
      expect((await get("/v1/branches", managerOf("brn_nowhere"))).items).toEqual([]);
    });

    it("refuses advisors, clients and compliance with 403 and no token with 401", async () => {
      for (const p of [advisor(adv.a1), client(cli.a1), { sub: "usr_c", role: "compliance" } as Principal]) {
        const res = await call("GET", "/v1/branches", p);
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe("FORBIDDEN");
      }
      expect((await call("GET", "/v1/branches", null)).status).toBe(401);
    });
  });

  describe("GET /v1/branches/{id}/advisors", () => {
    it("lists the branch's advisors with licences and live state, in the contract's shape", async () => {
      const all = await collect(`/v1/branches/${branchA}/advisors`, managerOf(branchA), 2);
      expect(ids(all)).toEqual([adv.a1, adv.a2, adv.a3]);
      for (const a of all) expect(Object.keys(a).sort()).toEqual(ADVISOR_KEYS);
      const a1 = all[0];
      expect(a1).toMatchObject({ branchId: branchA, name: "Advisor a1", status: "active", maxConcurrent: 3, languages: ["en"], suitabilityMaxRisk: 5 });
      expect(a1.licences).toEqual([
        {
          id: expect.stringMatching(/^lic_/),
          kind: "fund_sales",
          number: "FS-LIST-a1",
          issuer: "unspecified",
          validFrom: expect.any(String),
          validUntil: "2099-01-01T00:00:00.000Z",
          status: "active",
        },
      ]);
      // a1 accepted the live request: busy with one, answered one offer, nobody rated them yet.
      expect(a1.live).toEqual({ presence: "available", active: 1, capacity: 3, rating: null, responsiveness: expect.any(Number) });
      expect(a1.live.responsiveness).toBeGreaterThan(0.5);
      expect(a1.live.responsiveness).toBeLessThanOrEqual(1);
      expect(all[1].live).toEqual({ presence: "away", active: 0, capacity: 2, rating: null, responsiveness: null });
      expect(all[2].live).toEqual({ presence: "offline", active: 0, capacity: 2, rating: null, responsiveness: null });
    });

    it("filters on the live presence, paging across the filtered rows", async () => {
      const only = async (presence: string, limit: number) => ids(await collect(`/v1/branches/${branchA}/advisors?presence=${presence}`, admin, limit));
      expect(await only("available", 1)).toEqual([adv.a1]);
      expect(await only("away", 1)).toEqual([adv.a2]);
      expect(await only("offline", 1)).toEqual([adv.a3]);
      expect(ids((await get(`/v1/branches/${branchB}/advisors`, managerOf(branchB))).items)).toEqual([adv.b1]);
    });

    it("pages a presence filter over many skipped advisors without losing any", async () => {
      const branch = await created("/v1/branches", { name: "Crowd", region: "west" });
      const crowd: string[] = [];
      for (let i = 0; i < 12; i++) crowd.push(await created("/v1/advisors", advisorBody(branch, `crowd-${i}`)));
      const awayOnes = crowd.filter((_, i) => i % 4 === 1);
      for (const id of awayOnes) expect((await call("PUT", "/v1/advisors/me/presence", advisor(id, branch), { status: "away" })).status).toBe(200);
      expect(ids(await collect(`/v1/branches/${branch}/advisors?presence=away`, admin, 1))).toEqual(awayOnes);
      expect(ids(await collect(`/v1/branches/${branch}/advisors?presence=offline`, admin, 4))).toEqual(crowd.filter((id) => !awayOnes.includes(id)));
      expect(ids(await collect(`/v1/branches/${branch}/advisors?presence=available`, admin, 3))).toEqual([]);
    });

    it("takes the rating from the Rating table for an advisor the live store does not hold", async () => {
      const prisma = t.deps.backends.database.prisma;
      const ghost = newId("advisor");
      await prisma.advisor.create({
        data: { id: ghost, branchId: branchB, name: "Not live", languages: ["en"], maxConcurrent: 4, suitabilityMaxRisk: 3, createdAt: new Date(T0) },
      });
      for (const stars of [3, 4, 4]) {
        const requestId = newId("request");
        await prisma.serviceRequest.create({
          data: {
            id: requestId,
            clientId: cli.b1,
            branchId: branchB,
            topic: "rated",
            requiredLicence: "fund_sales",
            channel: "chat",
            status: "completed",
            assignedAdvisorId: ghost,
            createdAt: new Date(T0),
          },
        });
        await prisma.rating.create({ data: { id: newId("rating"), requestId, advisorId: ghost, clientId: cli.b1, stars } });
      }
      const listed = (await get(`/v1/branches/${branchB}/advisors`, admin)).items.find((a: Json) => a.id === ghost);
      expect(listed.live).toEqual({ presence: "offline", active: 0, capacity: 4, rating: 11 / 3, responsiveness: null });
      expect(listed.licences).toEqual([]);
    });
  });

  describe("GET /v1/branches/{id}/clients", () => {
    it("lists the branch's clients oldest first in the contract's shape", async () => {
      const all = await collect(`/v1/branches/${branchA}/clients`, managerOf(branchA), 1);
      expect(ids(all)).toEqual([cli.a1, cli.a2]);
      expect(all[0]).toEqual({
        id: cli.a1,
        branchId: branchA,
        name: "Client a1",
        riskLevel: 2,
        language: "en",
        dedicatedAdvisorId: adv.a1,
        createdAt: expect.any(String),
      });
      expect(all[1].dedicatedAdvisorId).toBeNull();
      expect(ids((await get(`/v1/branches/${branchB}/clients`, admin)).items)).toEqual([cli.b1]);
    });
  });

  describe("GET /v1/branches/{id}/requests", () => {
    const path = () => `/v1/branches/${branchA}/requests`;

    it("pages through every request of the branch newest first, ties broken by id, with no duplicates or gaps", async () => {
      for (const limit of [1, 4, 7, 200]) {
        const all = await collect(path(), managerOf(branchA), limit);
        expect(new Set(ids(all)).size).toBe(all.length);
        // The live request was created now, after every bulk row.
        expect(ids(all)).toEqual([liveRequestId, ...newestFirst(bulkA)]);
      }
      expect(bulkA).toHaveLength(37);
    });

    it("answers in the RequestSummary shape", async () => {
      const all = await collect(path(), admin, 50);
      for (const r of all) expect(Object.keys(r).sort()).toEqual(REQUEST_KEYS);
      const live = all.find((r) => r.id === liveRequestId);
      expect(live).toMatchObject({
        clientId: cli.a1,
        branchId: branchA,
        status: "assigned",
        stage: "dedicated",
        topic: "pension",
        requiredLicence: "fund_sales",
        channel: "chat",
        mode: "dispatch",
        priority: 0,
        assignedAdvisorId: adv.a1,
        callbackRequested: false,
        completedAt: null,
        cancelledAt: null,
        expiredAt: null,
      });
      for (const key of ["createdAt", "offeredAt", "assignedAt"]) expect(new Date(live[key]).toISOString()).toBe(live[key]);
      const bulk = all.find((r) => r.id === bulkA[0]!.id);
      expect(bulk).toMatchObject({ stage: null, assignedAdvisorId: null, offeredAt: null, createdAt: new Date(bulkA[0]!.createdAt).toISOString() });
    });

    it("filters on each status", async () => {
      for (const status of ["pending", "offered", "assigned", "completed", "cancelled", "expired"] as const) {
        const got = ids(await collect(`${path()}?status=${status}`, admin, 2));
        const expected = newestFirst(bulkA.filter((r) => r.status === status));
        expect(got).toEqual(status === "assigned" ? [liveRequestId, ...expected] : expected);
        expect(expected.length).toBeGreaterThan(0);
      }
    });

    it("filters on createdAt: from inclusive, to exclusive, with status and pages", async () => {
      const from = T0 + 6 * MIN;
      const to = T0 + 20 * MIN;
      const inRange = bulkA.filter((r) => r.createdAt >= from && r.createdAt < to);
      // The bounds fall exactly on rows, so both ends are tested.
      expect(bulkA.some((r) => r.createdAt === from)).toBe(true);
      expect(bulkA.some((r) => r.createdAt === to)).toBe(true);
      const q = `from=${new Date(from).toISOString()}&to=${encodeURIComponent(new Date(to).toISOString())}`;
      expect(ids(await collect(`${path()}?${q}`, admin, 3))).toEqual(newestFirst(inRange));
      expect(ids(await collect(`${path()}?from=${new Date(from).toISOString()}`, admin, 5))).toEqual([
        liveRequestId,
        ...newestFirst(bulkA.filter((r) => r.createdAt >= from)),
      ]);
      expect(ids(await collect(`${path()}?to=${new Date(to).toISOString()}`, admin, 5))).toEqual(newestFirst(bulkA.filter((r) => r.createdAt < to)));
      expect(ids(await collect(`${path()}?${q}&status=cancelled`, admin, 1))).toEqual(newestFirst(inRange.filter((r) => r.status === "cancelled")));
      // An offset is honoured: 13:06+01:00 is 12:06Z.
      expect(ids(await collect(`${path()}?from=${encodeURIComponent("2025-03-01T13:06:00+01:00")}&to=${new Date(to).toISOString()}`, admin, 50))).toEqual(
        newestFirst(inRange),
      );
    });

    it("keeps pages stable while rows are added: none repeated, none of the first listing lost", async () => {
      const first = await get(`${path()}?limit=5`, admin);
      const prisma = t.deps.backends.database.prisma;
      const lateId = newId("request");
      await prisma.serviceRequest.create({
        data: {
          id: lateId,
          clientId: cli.a2,
          branchId: branchA,
          topic: "late",
          requiredLicence: "fund_sales",
          channel: "voice",
          createdAt: new Date(T0 + 9 * MIN),
        },
      });
      try {
        const rest: Json[] = [];
        let cursor = first.nextCursor as string | null;
        while (cursor) {
          const page = await get(`${path()}?limit=5&cursor=${cursor}`, admin);
          rest.push(...page.items);
          cursor = page.nextCursor;
        }
        const seen = [...ids(first.items), ...ids(rest)];
        expect(new Set(seen).size).toBe(seen.length);
        const expected = newestFirst([...bulkA, { id: lateId, createdAt: T0 + 9 * MIN }]);
        expect(seen).toEqual([liveRequestId, ...expected]);
      } finally {
        await prisma.serviceRequest.delete({ where: { id: lateId } });
      }
    });

    it("never shows another branch's requests", async () => {
      const b = await collect(`/v1/branches/${branchB}/requests`, managerOf(branchB), 2);
      expect(b.length).toBeGreaterThanOrEqual(5);
      for (const r of b) expect(r.branchId).toBe(branchB);
      expect(ids(b).some((id) => bulkA.some((r) => r.id === id))).toBe(false);
    });
  });

  describe("GET /v1/requests (a client's own)", () => {
    it("lists only the caller's requests, newest first, with pages and the status filter", async () => {
      const mine = await collect("/v1/requests", client(cli.a2), 2);
      expect(ids(mine)).toEqual(newestFirst(bulkA.filter((r) => r.clientId === cli.a2)));
      for (const r of mine) expect(Object.keys(r).sort()).toEqual(REQUEST_KEYS);
      const a1 = await collect("/v1/requests", client(cli.a1), 3);
      expect(ids(a1)).toEqual([liveRequestId, ...newestFirst(bulkA.filter((r) => r.clientId === cli.a1))]);
      expect(ids(await collect("/v1/requests?status=assigned", client(cli.a1), 1))).toEqual([
        liveRequestId,
        ...newestFirst(bulkA.filter((r) => r.clientId === cli.a1 && r.status === "assigned")),
      ]);
      // A client with no requests, and a subject the directory does not know, see an empty list.
      expect(await get("/v1/requests", client(newId("client")))).toEqual({ items: [], nextCursor: null });
    });

    it("a cursor from another client's list shows nothing of theirs", async () => {
      const page = await get("/v1/requests?limit=1", client(cli.a1));
      const rest = await collect(`/v1/requests?cursor=${page.nextCursor}`, client(cli.a2), 50);
      for (const r of rest) expect(r.clientId).toBe(cli.a2);
    });
  });

  describe("GET /v1/advisors/me and /v1/advisors/me/requests", () => {
    it("shows the advisor themselves with licences and live state (not taken for /v1/advisors/{id})", async () => {
      const me = await get("/v1/advisors/me", advisor(adv.a1));
      expect(Object.keys(me).sort()).toEqual(ADVISOR_KEYS);
      expect(me).toMatchObject({ id: adv.a1, branchId: branchA, name: "Advisor a1", status: "active", maxConcurrent: 3 });
      expect(me.live).toMatchObject({ presence: "available", active: 1, capacity: 3, rating: null });
      expect(me.licences.map((l: Json) => l.number)).toEqual(["FS-LIST-a1"]);
      const other = await get("/v1/advisors/me", advisor(adv.a3));
      expect(other.id).toBe(adv.a3);
      expect(other.live).toEqual({ presence: "offline", active: 0, capacity: 2, rating: null, responsiveness: null });
    });

    it("answers 403 to a token whose subject is not a known advisor, and to every other role", async () => {
      expect((await call("GET", "/v1/advisors/me", advisor(newId("advisor")))).status).toBe(403);
      for (const p of [admin, managerOf(branchA), client(cli.a1)]) {
        expect((await call("GET", "/v1/advisors/me", p)).status).toBe(403);
        expect((await call("GET", "/v1/advisors/me/requests", p)).status).toBe(403);
      }
    });

    it("lists only the requests assigned to the caller, with pages and the status filter", async () => {
      const a2 = await collect("/v1/advisors/me/requests", advisor(adv.a2), 1);
      expect(ids(a2)).toEqual(newestFirst(bulkA.filter((r) => r.assignedAdvisorId === adv.a2)));
      expect(ids(a2).length).toBeGreaterThan(1);
      for (const r of a2) expect(r.assignedAdvisorId).toBe(adv.a2);
      expect(ids(await collect("/v1/advisors/me/requests?status=completed", advisor(adv.a3), 1))).toEqual(
        newestFirst(bulkA.filter((r) => r.assignedAdvisorId === adv.a3 && r.status === "completed")),
      );
      expect(ids(await collect("/v1/advisors/me/requests", advisor(adv.a1), 5))).toEqual([liveRequestId]);
      expect(ids(await collect("/v1/advisors/me/requests?status=completed", advisor(adv.a1), 5))).toEqual([]);
    });

    it("shows the rating once the request is completed and rated", async () => {
      expect((await call("POST", `/v1/requests/${liveRequestId}/complete`, advisor(adv.a1))).status).toBe(200);
      expect((await call("POST", `/v1/requests/${liveRequestId}/rating`, client(cli.a1), { stars: 4 })).status).toBe(201);
      const me = await get("/v1/advisors/me", advisor(adv.a1));
      expect(me.live).toMatchObject({ active: 0, rating: 4 });
      const done = await waitFor("the completion in the record", async () => {
        const page = await get("/v1/advisors/me/requests?status=completed", advisor(adv.a1));
        return page.items.length ? page.items : undefined;
      });
      expect(ids(done)).toEqual([liveRequestId]);
      expect(done[0].completedAt).toEqual(expect.any(String));
    });
  });

  describe("branch scoping", () => {
    const branchPaths = (id: string) => [`/v1/branches/${id}/advisors`, `/v1/branches/${id}/clients`, `/v1/branches/${id}/requests`];

    it("answers 403 to another branch's manager on every branch route", async () => {
      for (const p of branchPaths(branchA)) {
        const res = await call("GET", p, managerOf(branchB));
        expect(res.status, p).toBe(403);
        expect(res.body.error.code).toBe("FORBIDDEN");
      }
    });

    it("answers 403 to advisors, clients and compliance, 401 without a token", async () => {
      for (const p of branchPaths(branchA)) {
        for (const who of [advisor(adv.a1), client(cli.a1), { sub: "usr_c", role: "compliance" } as Principal])
          expect((await call("GET", p, who)).status).toBe(403);
        expect((await call("GET", p, null)).status).toBe(401);
      }
    });

    it("answers 404 to an admin for an unknown branch, 400 for a malformed branch id", async () => {
      for (const p of branchPaths(newId("branch"))) {
        const res = await call("GET", p, admin);
        expect(res.status, p).toBe(404);
        expect(res.body.error.code).toBe("NOT_FOUND");
      }
      for (const p of branchPaths("adv_notabranch")) expect((await call("GET", p, admin)).status, p).toBe(400);
    });
  });

  describe("bad input is a 400 VALIDATION_FAILED", () => {
    const lists = () =>
      [
        ["/v1/branches", admin],
        [`/v1/branches/${branchA}/advisors`, admin],
        [`/v1/branches/${branchA}/clients`, admin],
        [`/v1/branches/${branchA}/requests`, admin],
        ["/v1/requests", client(cli.a1)],
        ["/v1/advisors/me/requests", advisor(adv.a1)],
      ] as Array<[string, Principal]>;
    const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
    const badCursors = [
      "not a cursor",
      "%%%",
      b64("not json"),
      b64({ at: T0 }),
      b64({ at: "2026-03-01", id: "req_x1" }),
      b64({ at: T0, id: "req_x1", extra: 1 }),
      b64({ at: T0, id: "DROP TABLE" }),
      b64({ at: 1e20, id: "req_x1" }),
      b64([T0, "req_x1"]),
      "a".repeat(300),
    ];

    async function expect400(path: string, who: Principal, field: string) {
      const res = await call("GET", path, who);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
    }

    it("refuses a malformed cursor on every list", async () => {
      for (const [path, who] of lists()) for (const cursor of badCursors) await expect400(`${path}?cursor=${encodeURIComponent(cursor)}`, who, "cursor");
    });

    it("refuses a limit outside 1..200 or not an integer on every list", async () => {
      for (const [path, who] of lists()) for (const limit of ["0", "201", "-1", "1.5", "abc", ""]) await expect400(`${path}?limit=${limit}`, who, "limit");
      // Both ends of the range are fine.
      for (const [path, who] of lists()) for (const limit of ["1", "200"]) expect((await call("GET", `${path}?limit=${limit}`, who)).status).toBe(200);
    });

    it("refuses an unknown status, presence or a bad time range", async () => {
      for (const [path, who] of lists().slice(3)) for (const status of ["open", "ASSIGNED", ""]) await expect400(`${path}?status=${status}`, who, "status");
      await expect400(`/v1/branches/${branchA}/advisors?presence=busy`, admin, "presence");
      const requests = `/v1/branches/${branchA}/requests`;
      await expect400(`${requests}?from=yesterday`, admin, "from");
      await expect400(`${requests}?to=2026-03-01`, admin, "to");
      await expect400(`${requests}?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z`, admin, "to");
      await expect400(`${requests}?from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z`, admin, "to");
    });

    it("accepts a well-formed cursor for keys that match no row (the list just continues after them)", async () => {
      const cursor = encodeCursor({ at: T0 + 5 * MIN, id: "req_zzzz" });
      const page = await get(`/v1/branches/${branchA}/requests?cursor=${cursor}&limit=200`, admin);
      expect(ids(page.items)).toEqual(newestFirst(bulkA.filter((r) => r.createdAt <= T0 + 5 * MIN)));
    });
  });
});

/**
 * The licence register over real HTTP and WebSocket on PostgreSQL + Redis: a suspension takes effect
 * at once (open offers withdrawn, nothing new offered for that kind, the request moves on to someone
 * else), revoked is final, repeating a change records nothing, a CSV import is all or nothing and
 * names every bad line, and only admins may change licences. Every change is an audit action in
 * the event log.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import { RawBody, type ApiClient, type ApiResponse, type RecordingSocket } from "../support/apiClient.ts";
import { startScratchServer, type ScratchServer } from "../support/scratchServer.ts";
import { describeWithServices, probePostgres, probeRedis, uniqueTag } from "../support/services.ts";

const FAR_FUTURE = "2099-01-01T00:00:00.000Z";

describeWithServices("licence register on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  let server: ScratchServer;
  let db: Database;
  let api: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    server = await startScratchServer("adm_licences");
    ({ api, admin, database: db } = server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function created(res: Promise<ApiResponse>, what: string): Promise<string> {
    const r = await res;
    if (r.status !== 201) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }

  /**
   * A branch of its own (own region, so no other test's advisors are in reach) with two advisors:
   * `a` holds fund_sales and insurance and is the client's dedicated advisor, so a request goes to
   * `a` first while they are eligible; `b` holds both too, and gets what `a` may not take.
   */
  async function branch() {
    const t = uniqueTag();
    const branchId = await created(admin.call("POST", "/v1/branches", { name: `Licences ${t}`, region: `lic-${t}` }), "branch");
    const advisor = (name: string, licences: Array<{ kind: string; number: string }>) =>
      created(
        admin.call("POST", "/v1/advisors", {
          branchId,
          name,
          languages: ["en"],
          maxConcurrent: 3,
          suitabilityMaxRisk: 4,
          licences: licences.map((l) => ({ ...l, validUntil: FAR_FUTURE })),
        }),
        "advisor",
      );
    const numbers = { aFunds: `FS-A-${t}`, aInsurance: `IN-A-${t}`, bFunds: `FS-B-${t}`, bInsurance: `IN-B-${t}` };
    const aId = await advisor("Ada", [
      { kind: "fund_sales", number: numbers.aFunds },
      { kind: "insurance", number: numbers.aInsurance },
    ]);
    const bId = await advisor("Bo", [
      { kind: "fund_sales", number: numbers.bFunds },
      { kind: "insurance", number: numbers.bInsurance },
    ]);
    const clientId = await created(
      admin.call("POST", "/v1/clients", { branchId, name: "Cy", riskLevel: 2, language: "en", dedicatedAdvisorId: aId }),
      "client",
    );
    const a = api.as(await api.devToken(aId, "advisor", branchId));
    const b = api.as(await api.devToken(bId, "advisor", branchId));
    const client = api.as(await api.devToken(clientId, "client"));
    const manager = api.as(await api.devToken(`mgr_${t}`, "manager", branchId));
    return { t, branchId, aId, bId, a, b, client, manager, numbers };
  }

  async function available(...advisors: ApiClient[]) {
    for (const advisor of advisors) expect((await advisor.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
  }

  const socketOf = (client: ApiClient): Promise<RecordingSocket> => server.socketOf(client);

  async function request(client: ApiClient, requiredLicence: string): Promise<string> {
    return created(client.call("POST", "/v1/requests", { topic: `needs ${requiredLicence}`, requiredLicence, channel: "chat", mode: "dispatch" }), "request");
  }

  const openOfferIds = async (advisor: ApiClient) =>
    ((await advisor.call("GET", "/v1/advisors/me/offers")).body as Array<{ offerId: string }>).map((o) => o.offerId);
  const offersSentFor = (socket: RecordingSocket, requestId: string) =>
    socket.messages.filter((m) => m.message.type === "offer" && m.message.offer.requestId === requestId);
  const patch = (who: ApiClient, kind: string, number: string, body: unknown) => who.call("PATCH", `/v1/licences/${kind}/${encodeURIComponent(number)}`, body);
  const importCsv = (who: ApiClient, csv: string) => who.call("POST", "/v1/licences/import", new RawBody(csv), { "content-type": "text/csv" });

  async function licence(kind: string, number: string) {
    return db.prisma.licence.findUniqueOrThrow({ where: { kind_number: { kind: kind as never, number } } });
  }
  async function licenceActions(advisorId: string) {
    const rows = await db.prisma.eventLog.findMany({ where: { advisorId, type: { startsWith: "licence." } }, orderBy: { at: "asc" } });
    return rows.map((r) => ({ type: r.type, branchId: r.branchId, data: r.data as Record<string, any> }));
  }

  it("suspending a licence withdraws the advisor's open offer at once; the request goes to someone else, never back; new requests of that kind skip them, other kinds do not", async () => {
    const w = await branch();
    await available(w.a, w.b);
    const aSocket = await socketOf(w.a);
    const funds = await request(w.client, "fund_sales");
    const { offerId } = await w.a.offerFor(funds);

    const res = await patch(admin, "fund_sales", w.numbers.aFunds, { status: "suspended", reason: "regulator notice 17" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ advisorId: w.aId, kind: "fund_sales", number: w.numbers.aFunds, status: "suspended", validUntil: FAR_FUTURE });

    // At once: by the time the PATCH answered, the offer is closed and the advisor's list is empty of it.
    expect(await openOfferIds(w.a)).not.toContain(offerId);
    expect((await db.prisma.offer.findUniqueOrThrow({ where: { id: offerId } })).outcome).toBe("withdrawn");
    await aSocket.next((m) => m.type === "offer.withdrawn" && m.offerId === offerId);

    // The request moved on to the other licensed advisor, and was never offered back.
    const toB = await w.b.offerFor(funds);
    expect(offersSentFor(aSocket, funds)).toHaveLength(1);
    expect((await w.b.call("POST", `/v1/offers/${toB.offerId}/accept`)).status).toBe(200);

    // A new fund_sales request passes the dedicated (suspended) advisor by; an insurance one still reaches them.
    const moreFunds = await request(w.client, "fund_sales");
    await w.b.offerFor(moreFunds);
    const insurance = await request(w.client, "insurance");
    await w.a.offerFor(insurance);
    expect(offersSentFor(aSocket, moreFunds)).toEqual([]);
    expect(await db.prisma.offer.count({ where: { requestId: moreFunds, advisorId: w.aId } })).toBe(0);

    expect(await licenceActions(w.aId)).toEqual([
      {
        type: "licence.suspended",
        branchId: w.branchId,
        data: {
          licenceId: res.body.id,
          kind: "fund_sales",
          number: w.numbers.aFunds,
          from: { status: "active", validUntil: FAR_FUTURE },
          to: { status: "suspended", validUntil: FAR_FUTURE },
          reason: "regulator notice 17",
          source: "api",
          actor: "adm_licences",
        },
      },
    ]);
    for (const id of [moreFunds, insurance]) await w.client.call("POST", `/v1/requests/${id}/cancel`);
  });

  it("a change reaches the live profile even with no open offer: a suspension is skipped from the next request on, a reinstatement is offered again", async () => {
    const w = await branch();
    await available(w.a, w.b);
    const aSocket = await socketOf(w.a);
    expect((await patch(admin, "insurance", w.numbers.aInsurance, { status: "suspended", reason: "lapsed CPD" })).status).toBe(200);
    const insurance = await request(w.client, "insurance");
    await w.b.offerFor(insurance);
    expect(offersSentFor(aSocket, insurance)).toEqual([]);
    expect(await db.prisma.offer.count({ where: { requestId: insurance, advisorId: w.aId } })).toBe(0);
    await w.client.call("POST", `/v1/requests/${insurance}/cancel`);

    expect((await patch(admin, "insurance", w.numbers.aInsurance, { status: "active", reason: "CPD done" })).status).toBe(200);
    const again = await request(w.client, "insurance");
    await w.a.offerFor(again);
    await w.client.call("POST", `/v1/requests/${again}/cancel`);
  });

  it("revoked is final (409), a repeated change records nothing, and unknown or inverted changes are refused", async () => {
    const w = await branch();
    const number = w.numbers.aFunds;
    const suspend = { status: "suspended", reason: "investigation" };
    // Concurrent admins: the row lock serializes them, so one changes and records it, the rest repeat it.
    const concurrent = await Promise.all(Array.from({ length: 12 }, () => patch(admin, "fund_sales", number, suspend)));
    expect(new Set(concurrent.map((r) => `${r.status} ${r.body.status}`))).toEqual(new Set(["200 suspended"]));
    expect(Object.keys(concurrent[0]!.body).sort()).toEqual(["advisorId", "id", "issuer", "kind", "number", "status", "validFrom", "validUntil", "verifiedAt"]);
    const again = await patch(admin, "fund_sales", number, suspend);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("suspended");
    expect((await licenceActions(w.aId)).map((a) => a.type)).toEqual(["licence.suspended"]);

    const revoked = await patch(admin, "fund_sales", number, { status: "revoked", reason: "struck off" });
    expect(revoked.body.status).toBe("revoked");
    for (const change of [{ status: "active" }, { status: "suspended" }, { validUntil: "2100-01-01T00:00:00Z" }]) {
      const refused = await patch(admin, "fund_sales", number, { ...change, reason: "appeal" });
      expect(refused.status, JSON.stringify(change)).toBe(409);
      expect(refused.body.error.code).toBe("INVALID_STATE");
    }
    expect((await patch(admin, "fund_sales", number, { status: "revoked", reason: "again" })).status).toBe(200);
    expect((await licence("fund_sales", number)).status).toBe("revoked");
    expect((await licenceActions(w.aId)).map((a) => [a.type, a.data.from.status, a.data.to.status])).toEqual([
      ["licence.suspended", "active", "suspended"],
      ["licence.revoked", "suspended", "revoked"],
    ]);

    // Reinstating a suspension and moving validity are changes of their own.
    const other = w.numbers.aInsurance;
    await patch(admin, "insurance", other, suspend);
    expect((await patch(admin, "insurance", other, { status: "active", reason: "cleared" })).body.status).toBe("active");
    const redated = await patch(admin, "insurance", other, { validUntil: "2030-06-30T00:00:00Z", reason: "renewal date" });
    expect(redated.body.validUntil).toBe("2030-06-30T00:00:00.000Z");
    expect((await licenceActions(w.aId)).slice(2).map((a) => a.type)).toEqual(["licence.suspended", "licence.reinstated", "licence.validity_changed"]);

    expect((await patch(admin, "insurance", other, { validUntil: "2001-01-01T00:00:00Z", reason: "typo" })).status).toBe(400);
    expect((await patch(admin, "insurance", other, { reason: "nothing to change" })).status).toBe(400);
    expect((await patch(admin, "insurance", other, { status: "lapsed", reason: "x" })).status).toBe(400);
    expect((await patch(admin, "insurance", other, { status: "suspended" })).status).toBe(400);
    expect((await patch(admin, "insurance", `NOPE-${w.t}`, suspend)).status).toBe(404);
    expect((await patch(admin, "fund_sales", other, suspend)).status).toBe(404);
    expect((await licence("insurance", other)).validUntil.toISOString()).toBe("2030-06-30T00:00:00.000Z");
    expect(await licenceActions(w.aId)).toHaveLength(5);
  });

  it("a CSV import applies every row in one go, withdraws offers at once, and reports counts and the licences not on file", async () => {
    const w = await branch();
    await available(w.a, w.b);
    const funds = await request(w.client, "fund_sales");
    const { offerId } = await w.a.offerFor(funds);
    await patch(admin, "insurance", w.numbers.aInsurance, { status: "suspended", reason: "before the import" });

    const csv = [
      "number,kind,validUntil,status",
      `${w.numbers.aFunds},fund_sales,,suspended`,
      `"${w.numbers.bFunds}",fund_sales,2031-12-31T00:00:00+01:00,active`,
      `${w.numbers.aInsurance},insurance,,suspended`,
      `ELSEWHERE-${w.t},futures,2030-01-01T00:00:00Z,revoked`,
    ].join("\r\n");
    const res = await importCsv(admin, csv);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ changed: 2, unchanged: 1, unmatched: [{ line: 5, kind: "futures", number: `ELSEWHERE-${w.t}` }] });

    expect((await licence("fund_sales", w.numbers.aFunds)).status).toBe("suspended");
    expect((await licence("fund_sales", w.numbers.bFunds)).validUntil.toISOString()).toBe("2031-12-30T23:00:00.000Z");
    expect(await openOfferIds(w.a)).not.toContain(offerId);
    expect((await db.prisma.offer.findUniqueOrThrow({ where: { id: offerId } })).outcome).toBe("withdrawn");
    await w.b.offerFor(funds);

    const actions = [...(await licenceActions(w.aId)), ...(await licenceActions(w.bId))].filter((a) => a.data.source === "import");
    expect(actions.map((a) => [a.type, a.data.number, a.data.actor])).toEqual([
      ["licence.suspended", w.numbers.aFunds, "adm_licences"],
      ["licence.validity_changed", w.numbers.bFunds, "adm_licences"],
    ]);
    await w.client.call("POST", `/v1/requests/${funds}/cancel`);
  });

  it("a file with any bad row is refused with the line and field named, and changes nothing", async () => {
    const w = await branch();
    const good = `fund_sales,${w.numbers.aFunds},suspended,`;
    const header = "kind,number,status,validUntil";
    const cases: Array<{ csv: string; status: number; details: Array<Record<string, unknown>> }> = [
      { csv: [header, good, `fund_sale,${w.numbers.bFunds},suspended,`].join("\n"), status: 400, details: [{ line: 3, field: "kind" }] },
      {
        csv: [header, good, `fund_sales,${w.numbers.bFunds},suspended,31/12/2030`].join("\n"),
        status: 400,
        details: [{ line: 3, field: "validUntil", message: expect.stringContaining("ISO 8601") }],
      },
      { csv: [header, good, `fund_sales,${w.numbers.bFunds},suspended`].join("\n"), status: 400, details: [{ line: 3, message: "expected 4 fields, got 3" }] },
      { csv: ["kind,number,status", `fund_sales,${w.numbers.aFunds},suspended`].join("\n"), status: 400, details: [{ line: 1, field: "validUntil" }] },
      {
        csv: [header, good, `fund_sales, ${w.numbers.aFunds} ,active,`].join("\n"),
        status: 400,
        details: [{ line: 3, field: "number", message: expect.stringContaining("already on line 2") }],
      },
      {
        csv: [header, `bogus,${w.numbers.aFunds},suspended,`, good, `insurance,${w.numbers.aInsurance},gone,2030-13-01T00:00:00Z`].join("\n"),
        status: 400,
        details: [
          { line: 2, field: "kind" },
          { line: 4, field: "status" },
          { line: 4, field: "validUntil" },
        ],
      },
      {
        csv: [header, good, `fund_sales,${w.numbers.bFunds},active,1999-01-01T00:00:00Z`].join("\n"),
        status: 400,
        details: [{ line: 3, field: "validUntil" }],
      },
    ];
    for (const { csv, status, details } of cases) {
      const res = await importCsv(admin, csv);
      expect(res.status, `${csv}\n→ ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body.error.code).toBe("VALIDATION_FAILED");
      expect(res.body.error.details, csv).toEqual(details.map((d) => expect.objectContaining(d)));
    }

    // A row that would revive a revoked licence refuses the whole file with 409.
    await patch(admin, "insurance", w.numbers.aInsurance, { status: "revoked", reason: "struck off" });
    const revived = await importCsv(admin, [header, good, `insurance,${w.numbers.aInsurance},active,`].join("\n"));
    expect(revived.status).toBe(409);
    expect(revived.body.error).toMatchObject({ code: "INVALID_STATE", details: [{ line: 3, field: "status" }] });

    expect((await importCsv(admin, "")).status).toBe(400);
    expect((await importCsv(admin, header)).status).toBe(400);
    expect((await admin.call("POST", "/v1/licences/import", { csv: [header, good].join("\n") })).status).toBe(400);

    expect((await licence("fund_sales", w.numbers.aFunds)).status).toBe("active");
    expect((await licence("fund_sales", w.numbers.bFunds)).status).toBe("active");
    expect((await licenceActions(w.aId)).map((a) => a.type)).toEqual(["licence.revoked"]);
    expect(await licenceActions(w.bId)).toEqual([]);
  });

  it("only admins change licences: managers, compliance, advisors and clients get 403 and change nothing", async () => {
    const w = await branch();
    const compliance = api.as(await api.devToken("cmp_licences", "compliance"));
    for (const who of [w.manager, compliance, w.a, w.b, w.client]) {
      const single = await patch(who, "fund_sales", w.numbers.aFunds, { status: "suspended", reason: "not mine to do" });
      expect(single.status).toBe(403);
      expect(single.body.error.code).toBe("FORBIDDEN");
      const file = await importCsv(who, `kind,number,status,validUntil\nfund_sales,${w.numbers.aFunds},revoked,\n`);
      expect(file.status).toBe(403);
    }
    expect((await patch(api, "fund_sales", w.numbers.aFunds, { status: "suspended", reason: "anonymous" })).status).toBe(401);
    expect((await licence("fund_sales", w.numbers.aFunds)).status).toBe("active");
    expect(await licenceActions(w.aId)).toEqual([]);
  });
});

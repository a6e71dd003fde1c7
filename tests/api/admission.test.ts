/**
 * Load shedding of request creation (api/admission.ts): past MAX_CREATES_IN_FLIGHT, a create answers
 * 503 UNAVAILABLE with Retry-After at once, in the error shape, and its place comes back when a
 * create ends, whether it succeeded or threw. Then the real server under a burst of creates.
 */
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admitted, createAdmission } from "../../api/admission.ts";
import { createOnError } from "../../api/errors.ts";
import { createLogger } from "../../core/logger.ts";
import { startScratchServer, type ScratchServer } from "../support/scratchServer.ts";
import { describeWithServices, probePostgres, probeRedis, uniqueTag } from "../support/services.ts";

describe("create admission", () => {
  it("holds at most max creations; the next answers 503 with Retry-After; places come back, also after a throw", async () => {
    const admission = createAdmission(2);
    const gates: Array<() => void> = [];
    const app = new Hono();
    app.onError(createOnError(createLogger("silent")));
    app.post("/create", admitted(admission), async (c) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      if (c.req.query("fail")) throw new Error("boom");
      return c.json({ ok: true }, 201);
    });
    const post = (query = "") => app.request(`/create${query}`, { method: "POST" });

    const first = post();
    const second = post("?fail=1");
    await new Promise((r) => setTimeout(r, 0));
    expect(admission.inFlight).toBe(2);
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await refused.json()).error).toMatchObject({ code: "UNAVAILABLE" });
    expect(admission.shed).toBe(1);

    gates.shift()!();
    gates.shift()!();
    expect((await first).status).toBe(201);
    expect((await second).status).toBe(500);
    expect(admission.inFlight).toBe(0);
    const again = post();
    await new Promise((r) => setTimeout(r, 0));
    gates.shift()!();
    expect((await again).status).toBe(201);
  });
});

describeWithServices("request creation under a burst (PostgreSQL + Redis, MAX_CREATES_IN_FLIGHT=2)", [await probePostgres(), await probeRedis()], () => {
  let scratch: ScratchServer;
  beforeAll(async () => {
    scratch = await startScratchServer("admin_adm", { MAX_CREATES_IN_FLIGHT: "2", RATE_LIMIT_REQUESTS_PER_MINUTE: "1000" });
  });
  afterAll(async () => {
    await scratch?.stop();
  });

  it("sheds what exceeds the bound with 503 and Retry-After, never a 500; a retry with the same Idempotency-Key creates it once", async () => {
    const { api, admin } = scratch;
    const branchId = (await admin.call("POST", "/v1/branches", { name: "ADM", region: `adm-${uniqueTag()}` })).body.id;
    const clients = await Promise.all(
      Array.from({ length: 30 }, async () =>
        api.as(await api.devToken((await admin.call("POST", "/v1/clients", { branchId, name: "C", riskLevel: 1, language: "en" })).body.id, "client")),
      ),
    );
    const body = { topic: "t", requiredLicence: "fund_sales", channel: "chat" };
    const send = (i: number) => clients[i]!.call("POST", "/v1/requests", body, { "idempotency-key": `burst-${i}` });
    const answers = await Promise.all(clients.map((_, i) => send(i)));
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.every((s) => s === 201 || s === 503),
      statuses.join(","),
    ).toBe(true);
    const shed = answers.filter((a) => a.status === 503);
    expect(shed.length, "30 creates at once against a bound of 2").toBeGreaterThan(0);
    for (const a of shed) {
      expect(a.body.error.code).toBe("UNAVAILABLE");
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // The shed ones, retried one at a time, are created; the admitted ones replay (200), not twice.
    for (let i = 0; i < clients.length; i++) {
      const retried = await send(i);
      expect(retried.status).toBe(statuses[i] === 503 ? 201 : 200);
    }
  });
});

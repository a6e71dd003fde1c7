/**
 * The rough edges a new user hit (issue 13), each shown over real HTTP or a real `npm start`:
 * - a port in use, an unreachable database or Redis: one readable fatal line, no stack trace, and
 *   the port is checked before any migration or seed runs;
 * - a body without a Content-Type (or one no route reads): 415, not a schema 400;
 * - a dev token's branch claim is checked against the directory;
 * - an active licence past its validUntil reads `expired` on every view.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer as startInProcess, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";
import { freePort, startServer } from "../support/server.ts";
import { uniqueTag } from "../support/services.ts";

const fatalLines = (output: string) => output.split("\n").filter((line) => line.includes('"level":60'));

describe("npm start refuses in one line", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-edges-"));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("a port in use, before migrating or seeding anything", async () => {
    const port = await freePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    try {
      const server = startServer({ PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir });
      expect(await server.exited).toBe(1);
      const fatal = fatalLines(server.output());
      expect(fatal, server.output()).toHaveLength(1);
      expect(JSON.parse(fatal[0]!).msg).toBe(`port ${port} is in use on 127.0.0.1: stop the other process or set PORT`);
      expect(server.output()).not.toMatch(/stack|applied migrations|seeded demo data/);
      // Nothing was created: the embedded database was never opened.
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it("a database nobody answers at", async () => {
    const port = await freePort();
    const server = startServer({ PORT: "0", DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/test`, JWT_SECRET: "t".repeat(32) });
    expect(await server.exited).toBe(1);
    const fatal = fatalLines(server.output());
    expect(fatal, server.output()).toHaveLength(1);
    expect(JSON.parse(fatal[0]!).msg).toBe(
      `cannot reach the database at postgresql://postgres@127.0.0.1:${port}/test: Can't reach database server at 127.0.0.1:${port}`,
    );
    expect(server.output()).not.toMatch(/stack|prisma\.\$/);
  });

  it("a Redis nobody answers at: one fatal line naming why, the failed attempts only at debug level", async () => {
    const port = await freePort();
    const server = startServer({
      PORT: "0",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/test",
      JWT_SECRET: "t".repeat(32),
      REDIS_TIMEOUT_MS: "500",
    });
    expect(await server.exited).toBe(1);
    const fatal = fatalLines(server.output());
    expect(fatal, server.output()).toHaveLength(1);
    expect(JSON.parse(fatal[0]!).msg).toMatch(
      new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: could not connect within 5 s \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`),
    );
    expect(server.output()).not.toMatch(/"level":50|stack/);
  });
});

describe("requests a new user gets wrong (embedded backends)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-edges-api-"));
  let server: RunningServer;
  let base: string;
  let api: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    server = await startInProcess(
      loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", SEED_DEMO: "false", DEV_AUTH: "true", JWT_SECRET: "e".repeat(32) }),
      createLogger("silent"),
    );
    base = `http://127.0.0.1:${server.port}`;
    api = new ApiClient(base);
    admin = api.as(await api.devToken("admin_edges", "admin"));
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const raw = (method: string, p: string, headers: Record<string, string>, body?: string) =>
    fetch(`${base}${p}`, { method, headers: { authorization: `Bearer ${admin.token}`, ...headers }, ...(body === undefined ? {} : { body }) }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as any }),
    );

  it("a body without Content-Type is a 415 naming the types we read; so is a type no route reads", async () => {
    const body = JSON.stringify({ name: "No type", region: "r" });
    // fetch would label a string body text/plain; a Uint8Array goes without a Content-Type.
    const untyped = await fetch(`${base}/v1/branches`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}` },
      body: new TextEncoder().encode(body),
    });
    expect(untyped.headers.get("content-type")).toMatch(/application\/json/);
    const untypedBody = (await untyped.json()) as any;
    expect(untyped.status).toBe(415);
    expect(untypedBody.error).toMatchObject({
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: "the body has no Content-Type: send application/json (text/csv for a licence import)",
    });
    expect(typeof untypedBody.error.requestId).toBe("string");
    const plain = await raw("POST", "/v1/branches", { "content-type": "text/plain" }, body);
    expect(plain.status).toBe(415);
    expect(plain.body.error.message).toBe('Content-Type "text/plain" is not read here: send application/json (text/csv for a licence import)');
    // The same body labelled JSON is read, and a bodiless POST needs no type.
    expect((await raw("POST", "/v1/branches", { "content-type": "application/json; charset=utf-8" }, body)).status).toBe(201);
    expect((await fetch(`${base}/v1/offers/off_nothing/accept`, { method: "POST", headers: { authorization: `Bearer ${admin.token}` } })).status).not.toBe(415);
  });

  async function branch(name: string): Promise<string> {
    const created = await admin.call("POST", "/v1/branches", { name, region: `r_${uniqueTag()}` });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  async function advisor(branchId: string, licence: { validFrom?: string; validUntil: string }): Promise<{ id: string; number: string }> {
    const number = `FS-${uniqueTag()}`;
    const created = await admin.call("POST", "/v1/advisors", {
      branchId,
      name: "Edge Advisor",
      languages: ["en"],
      maxConcurrent: 1,
      suitabilityMaxRisk: 3,
      licences: [{ kind: "fund_sales", number, ...licence }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.id, number };
  }

  it("a dev token's branch must be the advisor's own, and a manager's must exist", async () => {
    const home = await branch("Home");
    const elsewhere = await branch("Elsewhere");
    const { id } = await advisor(home, { validUntil: "2099-01-01T00:00:00.000Z" });
    const mint = (body: Record<string, unknown>) => api.call("POST", "/v1/dev/token", body);
    const wrong = await mint({ sub: id, role: "advisor", branchId: elsewhere });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({
      code: "VALIDATION_FAILED",
      message: `advisor ${id} belongs to branch ${home}, not ${elsewhere}`,
      details: [{ path: "branchId" }],
    });
    expect((await mint({ sub: id, role: "advisor", branchId: home })).status).toBe(200);
    const ghost = await mint({ sub: "mgr_edges", role: "manager", branchId: "brn_nowhere" });
    expect(ghost.status).toBe(400);
    expect(ghost.body.error.message).toBe("branch brn_nowhere is not in the directory");
    expect((await mint({ sub: "mgr_edges", role: "manager", branchId: elsewhere })).status).toBe(200);
  });

  it("an active licence past its validUntil reads expired on the advisor and licence views", async () => {
    const branchId = await branch("Lapsed");
    const lapsed = await advisor(branchId, { validFrom: "2020-01-01T00:00:00.000Z", validUntil: "2021-01-01T00:00:00.000Z" });
    const current = await advisor(branchId, { validUntil: "2099-01-01T00:00:00.000Z" });
    const shown = async (advisorId: string) => (await admin.call("GET", `/v1/advisors/${advisorId}`)).body.licences.map((l: { status: string }) => l.status);
    expect(await shown(lapsed.id)).toEqual(["expired"]);
    expect(await shown(current.id)).toEqual(["active"]);
    // The register still holds what the issuer said; a change answers with the shown status too.
    const changed = await admin.call("PATCH", `/v1/licences/fund_sales/${lapsed.number}`, {
      validUntil: "2021-02-01T00:00:00.000Z",
      reason: "issuer correction",
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.status).toBe("expired");
    const suspended = await admin.call("PATCH", `/v1/licences/fund_sales/${lapsed.number}`, { status: "suspended", reason: "issuer notice" });
    expect(suspended.body.status).toBe("suspended");
  });
});

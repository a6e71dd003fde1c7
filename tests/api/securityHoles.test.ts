/**
 * Regressions for the holes a probe run found (issue 11), each failing until its fix is in:
 * - a lone surrogate in a message (or any other text) broke the audit chain for good: now a 400
 *   naming the field, and the chain stays intact; invalid UTF-8 bodies are refused by line;
 * - socket frames of up to 100 MiB were buffered: now a frame over 16 KB closes that socket (1009),
 *   a flood of frames closes it (1008), memory stays flat and other sockets keep working; a frame
 *   within the limits is answered RECEIVE_ONLY (the socket is receive-only) and otherwise ignored;
 * - tokens without `exp` never expired: now `exp` is required, lifetimes over JWT_MAX_TTL_SECONDS
 *   are refused, `iss`/`aud` are checked when configured, and dev tokens are short-lived.
 * On the embedded backends, over real HTTP and WebSocket.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sign } from "hono/jwt";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../api/auth/principal.ts";
import { MAX_FRAME_BYTES, MAX_FRAMES_PER_WINDOW, RECEIVE_ONLY_ERROR } from "../../api/realtime/hub.ts";
import { startServer, type RunningServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient, RawBody } from "../support/apiClient.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";

const SECRET = "s".repeat(32);
const MAX_TTL_SECONDS = 2 * 3600;
const ISSUER = "https://id.example-bank.test";
const AUDIENCE = "advisor-dispatch";

/** A JSON body sent as JSON.stringify writes it: a lone surrogate travels as a \udXXX escape, as an attacker would send it. */
const jsonWith = (body: Record<string, unknown>) => new RawBody(JSON.stringify(body));

describe("security holes found by probing (embedded backends)", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-holes-"));
  let server: RunningServer;
  let base: string;
  let api: ApiClient;
  let admin: ApiClient;
  let compliance: ApiClient;
  const scope = { issuer: ISSUER, audience: AUDIENCE };

  beforeAll(async () => {
    server = await startServer(
      loadConfig({
        DATA_DIR: dataDir,
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "silent",
        SEED_DEMO: "false",
        DEV_AUTH: "true",
        JWT_SECRET: SECRET,
        JWT_MAX_TTL_SECONDS: String(MAX_TTL_SECONDS),
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: AUDIENCE,
      }),
      createLogger("silent"),
    );
    base = `http://127.0.0.1:${server.port}`;
    api = new ApiClient(base);
    admin = api.as(await api.devToken("admin_holes", "admin"));
    compliance = api.as(await api.devToken("compliance_holes", "compliance"));
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** A request the advisor has accepted: its conversation is open to both. */
  async function openConversation() {
    const world = await createConversationWorld(api, admin, "Holes");
    expect((await world.advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
    const created = await world.clientApi.call("POST", "/v1/requests", { topic: "pension", requiredLicence: "fund_sales", channel: "chat" });
    expect(created.status).toBe(201);
    const offer = await world.advisorApi.offerFor(created.body.id);
    expect((await world.advisorApi.call("POST", `/v1/offers/${offer.offerId}/accept`)).status).toBe(200);
    return { ...world, requestId: created.body.id as string };
  }

  describe("text that storage would change", () => {
    it("a lone surrogate in a message is a 400 naming the field, nothing is stored, and the audit check stays ok", async () => {
      const w = await openConversation();
      const messages = `/v1/requests/${w.requestId}/messages`;
      expect((await w.clientApi.call("POST", messages, { body: "hello" })).status).toBe(201);
      for (const body of ["x\udc00y", "\ud800", "ok \ud83d", "\udfff tail"]) {
        const res = await w.clientApi.call("POST", messages, jsonWith({ body }));
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error.code).toBe("VALIDATION_FAILED");
        expect(res.body.error.details).toEqual([expect.objectContaining({ path: "body" })]);
      }
      // A surrogate pair (an emoji) is well-formed and goes through.
      expect((await w.advisorApi.call("POST", messages, jsonWith({ body: "thanks 😀" }))).status).toBe(201);
      const stored = (await w.clientApi.call("GET", messages)).body.messages as Array<{ body: string }>;
      expect(stored.map((m) => m.body)).toEqual(["hello", "thanks 😀"]);
      const verify = await compliance.call("GET", "/v1/audit/verify");
      expect(verify.status).toBe(200);
      expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);
    });

    it("every other text route refuses a lone surrogate with a 400 naming the field", async () => {
      const w = await openConversation();
      const cases: Array<[ApiClient, string, string, Record<string, unknown>, string]> = [
        [admin, "POST", "/v1/branches", { name: "B\ud800", region: "r" }, "name"],
        [admin, "POST", "/v1/branches", { name: "B", region: "\udc00" }, "region"],
        [admin, "POST", "/v1/clients", { branchId: w.branchId, name: "C\udfff", riskLevel: 1, language: "en" }, "name"],
        [w.clientApi, "POST", "/v1/requests", { topic: "t\ud800", requiredLicence: "fund_sales", channel: "chat" }, "topic"],
        [admin, "PATCH", "/v1/licences/fund_sales/NOPE-1", { status: "suspended", reason: "r\udc00" }, "reason"],
        [admin, "POST", `/v1/advisors/${w.advisorId}/offboard`, { reason: "gone\ud800" }, "reason"],
        [
          admin,
          "POST",
          `/v1/branches/${w.branchId}/incentive-rules`,
          { rules: [{ id: "fast\ud800", on: "offer.accepted", award: { points: 5 } }] },
          "rules.0.id",
        ],
      ];
      const wrong: string[] = [];
      for (const [who, method, p, body, field] of cases) {
        const res = await who.call(method, p, jsonWith(body));
        const fields = (res.body?.error?.details ?? []).map((d: { path: string }) => d.path);
        if (res.status !== 400 || !fields.includes(field)) wrong.push(`${method} ${p} ${field} → ${res.status} ${JSON.stringify(res.body)}`);
      }
      expect(wrong).toEqual([]);
      expect((await compliance.call("GET", "/v1/audit/verify")).body.ok).toBe(true);
    });

    it("a body that is not valid UTF-8 is a 400 naming its line, for JSON and for a CSV import", async () => {
      const post = (p: string, type: string, bytes: Buffer) =>
        fetch(`${base}${p}`, { method: "POST", headers: { authorization: `Bearer ${admin.token}`, "content-type": type }, body: new Uint8Array(bytes) }).then(
          async (r) => ({ status: r.status, body: (await r.json()) as any }),
        );
      const json = await post(
        "/v1/branches",
        "application/json",
        Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","region":"r"}')]),
      );
      expect(json.status).toBe(400);
      expect(json.body.error.message).toBe("the body is not valid UTF-8 (line 1)");
      // An encoded surrogate half (CESU-8) is not UTF-8 either.
      const csv = await post(
        "/v1/licences/import",
        "text/csv",
        Buffer.concat([
          Buffer.from("kind,number,status,validUntil\nfund_sales,A-1,active,\nfund_sales,B-"),
          Buffer.from([0xed, 0xa0, 0x80]),
          Buffer.from(",active,\n"),
        ]),
      );
      expect(csv.status).toBe(400);
      expect(csv.body.error.details).toEqual([{ path: "body", message: "invalid UTF-8 on line 3" }]);
      // The same file in valid UTF-8 is read (its licences are simply not on file).
      const ok = await post("/v1/licences/import", "text/csv", Buffer.from("kind,number,status,validUntil\nfund_sales,A-1,active,\nfund_sales,B-é,active,\n"));
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.unmatched).toHaveLength(2);
    });
  });

  describe("socket frames", () => {
    const open = (token: string) =>
      new Promise<{ ws: WebSocket; closed: Promise<number> }>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace(/^http/, "ws")}/v1/ws?token=${encodeURIComponent(token)}`);
        const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
        ws.once("message", () => resolve({ ws, closed }));
        ws.once("unexpected-response", (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
        ws.on("error", () => {});
      });

    it("a 1 MB frame closes that socket with 1009 while memory stays flat, and the other sockets keep working", async () => {
      const w = await createConversationWorld(api, admin, "Frames");
      const bystander = await open(w.advisorApi.token!);
      const received: string[] = [];
      bystander.ws.on("message", (data) => received.push(JSON.parse(String(data)).type));
      const attackers = await Promise.all(Array.from({ length: 8 }, () => open(w.clientApi.token!)));
      // The test's own clients share this process: ws.send would mask (copy) each 1 MB payload on
      // the way out, and that client-side garbage alone can pass 8 MB. So one masked frame is built
      // before measuring (mask key 0, so the masked bytes are the payload) and written raw to every
      // socket: what RSS grows by is the server's doing.
      const payload = 1024 * 1024;
      const frame = Buffer.alloc(2 + 8 + 4 + payload, 0x61);
      frame[0] = 0x82; // FIN, binary
      frame[1] = 0x80 | 127; // masked, 64-bit length
      frame.writeBigUInt64BE(BigInt(payload), 2);
      frame.writeUInt32BE(0, 10); // mask key
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      for (const a of attackers) (a.ws as unknown as { _socket: import("node:net").Socket })._socket.write(frame);
      const codes = await Promise.all(attackers.map((a) => a.closed));
      expect(codes).toEqual(Array(8).fill(1009));
      const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
      // Eight frames buffered whole would be 8 MB of payload plus their copies; refused at the header, far less.
      expect(grownMb, `RSS grew ${grownMb.toFixed(1)} MB`).toBeLessThan(8);
      // A frame at the limit is accepted: answered RECEIVE_ONLY, otherwise ignored.
      const fine = await open(w.clientApi.token!);
      const fineAnswer = new Promise((r) => fine.ws.once("message", (data) => r(JSON.parse(String(data)))));
      fine.ws.send(Buffer.alloc(MAX_FRAME_BYTES - 64, 0x61));
      expect(await fineAnswer).toEqual(RECEIVE_ONLY_ERROR);
      // The bystander still receives: an offer for a request the client makes now.
      expect((await w.advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
      expect((await w.clientApi.call("POST", "/v1/requests", { topic: "still here", requiredLicence: "fund_sales", channel: "chat" })).status).toBe(201);
      for (const deadline = Date.now() + 5_000; !received.includes("offer") && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
      expect(received).toContain("offer");
      expect(fine.ws.readyState).toBe(WebSocket.OPEN);
      fine.ws.close();
      bystander.ws.close();
    });

    it("a flood of small frames closes that socket with 1008", async () => {
      const w = await createConversationWorld(api, admin, "Flood");
      const polite = await open(w.clientApi.token!);
      const answers: unknown[] = [];
      polite.ws.on("message", (data) => answers.push(JSON.parse(String(data))));
      for (let i = 0; i < MAX_FRAMES_PER_WINDOW; i++) polite.ws.send("{}");
      const flooder = await open(w.clientApi.token!);
      for (let i = 0; i < MAX_FRAMES_PER_WINDOW * 5; i++) flooder.ws.send("{}");
      expect(await flooder.closed).toBe(1008);
      await new Promise((r) => setTimeout(r, 200));
      expect(polite.ws.readyState).toBe(WebSocket.OPEN);
      // Within the limit every frame was answered, once.
      expect(answers).toEqual(Array(MAX_FRAMES_PER_WINDOW).fill(RECEIVE_ONLY_ERROR));
      polite.ws.close();
    });

    it("a chat message sent on the socket is answered RECEIVE_ONLY, naming the HTTP route, and is not stored", async () => {
      const { clientApi, advisorApi, requestId } = await openConversation();
      const client = await open(clientApi.token!);
      const advisor = await open(advisorApi.token!);
      const toAdvisor: Array<{ type: string }> = [];
      advisor.ws.on("message", (data) => toAdvisor.push(JSON.parse(String(data))));
      const answer = new Promise<{ type: string; error: { code: string; message: string } }>((r) =>
        client.ws.on("message", (data) => {
          const message = JSON.parse(String(data));
          if (message.type === "error") r(message);
        }),
      );
      client.ws.send(JSON.stringify({ type: "message", requestId, body: "hello over the socket" }));
      const error = await answer;
      expect(error).toEqual({ type: "error", error: { code: "RECEIVE_ONLY", message: expect.stringContaining("POST /v1/requests/{id}/messages") } });
      expect(client.ws.readyState).toBe(WebSocket.OPEN);
      // Nothing was stored or passed on; the HTTP route still works on the same conversation.
      expect((await clientApi.call("GET", `/v1/requests/${requestId}/messages`)).body.messages).toEqual([]);
      expect((await clientApi.call("POST", `/v1/requests/${requestId}/messages`, { body: "hello over HTTP" })).status).toBe(201);
      const delivered = async () => {
        for (const deadline = Date.now() + 5_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20)))
          if (toAdvisor.some((m) => m.type === "message")) return;
      };
      await delivered();
      expect(toAdvisor.filter((m) => m.type === "message")).toHaveLength(1);
      client.ws.close();
      advisor.ws.close();
    });
  });

  describe("token lifetime", () => {
    const now = () => Math.floor(Date.now() / 1000);
    const status = async (token: string) => (await api.call("GET", "/v1/audit/verify", undefined, { authorization: `Bearer ${token}` })).status;
    const claims = { sub: "compliance_tok", role: "compliance", iss: ISSUER, aud: AUDIENCE };

    it("a token within the rules is accepted, on HTTP and on the socket", async () => {
      const token = await sign({ ...claims, iat: now(), exp: now() + 600 }, SECRET, "HS256");
      expect(await status(token)).toBe(200);
      expect(await status(await issueToken({ sub: "compliance_tok", role: "compliance" }, SECRET, MAX_TTL_SECONDS, scope))).toBe(200);
    });

    it("refuses with 401 a token without exp, one living longer than JWT_MAX_TTL_SECONDS, or of another issuer or audience", async () => {
      const bad: Record<string, string> = {
        "no exp": await sign({ ...claims, iat: now() }, SECRET, "HS256"),
        "no exp, no iat": await sign(claims, SECRET, "HS256"),
        "exp - iat over the maximum": await sign({ ...claims, iat: now(), exp: now() + MAX_TTL_SECONDS + 1 }, SECRET, "HS256"),
        "a far exp without iat": await sign({ ...claims, exp: now() + 10 * 365 * 24 * 3600 }, SECRET, "HS256"),
        "back-dated iat, far exp": await sign({ ...claims, iat: now() - 3600, exp: now() + MAX_TTL_SECONDS + 120 }, SECRET, "HS256"),
        "another issuer": await sign({ ...claims, iss: "https://evil.test", iat: now(), exp: now() + 600 }, SECRET, "HS256"),
        "no issuer": await sign({ sub: "c", role: "compliance", aud: AUDIENCE, iat: now(), exp: now() + 600 }, SECRET, "HS256"),
        "another audience": await sign({ ...claims, aud: ["other-app"], iat: now(), exp: now() + 600 }, SECRET, "HS256"),
      };
      const got = Object.fromEntries(await Promise.all(Object.entries(bad).map(async ([name, token]) => [name, await status(token)] as const)));
      expect(got).toEqual(Object.fromEntries(Object.keys(bad).map((name) => [name, 401])));
      // The socket applies the same rules.
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace(/^http/, "ws")}/v1/ws?token=${bad["no exp"]}`);
        ws.once("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
        ws.once("open", () => resolve(101));
        ws.on("error", () => {});
      });
      expect(refused).toBe(401);
    });

    it("dev tokens expire within an hour unless asked, and never later than the maximum", async () => {
      const payloadOf = (token: string) =>
        JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { iat: number; exp: number; iss: string; aud: string };
      const short = payloadOf(await api.devToken("cli_dev", "client"));
      expect(short.exp - short.iat).toBe(3600);
      expect([short.iss, short.aud]).toEqual([ISSUER, AUDIENCE]);
      const longer = await api.call("POST", "/v1/dev/token", { sub: "cli_dev", role: "client", ttlSeconds: MAX_TTL_SECONDS });
      expect(payloadOf(longer.body.token).exp - payloadOf(longer.body.token).iat).toBe(MAX_TTL_SECONDS);
      const tooLong = await api.call("POST", "/v1/dev/token", { sub: "cli_dev", role: "client", ttlSeconds: MAX_TTL_SECONDS + 1 });
      expect(tooLong.status).toBe(400);
      expect(tooLong.body.error.details).toEqual([{ path: "ttlSeconds", message: `must be at most ${MAX_TTL_SECONDS}` }]);
    });
  });
});

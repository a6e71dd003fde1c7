/**
 * The recorded conversation over real HTTP and WebSocket: the client and the assigned advisor talk,
 * each message is stored hash-chained before it reaches the other side; third parties cannot read
 * or write; completion makes it read-only; 50 concurrent senders lose nothing and keep their order.
 * Also the connection lifecycle driven by the engine's events. On embedded PGlite and on PostgreSQL + Redis.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../app/server.ts";
import { connectionsOf, openConnectionFor } from "../../compliance/connections/connections.ts";
import { verifyMessageChain } from "../support/messageChain.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import type { Database } from "../../platform/database.ts";
import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import { ApiClient, type RecordingSocket } from "../support/apiClient.ts";
import type { MessageView } from "../../compliance/messages/store.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { createConversationWorld } from "../support/conversationWorld.ts";
import { describeWithServices, probePostgres, probeRedis, TEST_REDIS_URL, testKeyPrefix } from "../support/services.ts";
import { createWorld } from "../matching/support/world.ts";

/** A message as the API returns it. */
type StoredMessage = MessageView;

/** An independent recomputation of the chain: sha256(prevHash + JSON with sorted keys). */
function recomputeChain(messages: StoredMessage[]): void {
  let prev = "0".repeat(64);
  messages.forEach((m, i) => {
    expect(m.seq).toBe(i + 1);
    expect(m.prevHash).toBe(prev);
    const fields = { body: m.body, id: m.id, requestId: m.requestId, senderId: m.senderId, senderRole: m.senderRole, sentAt: m.sentAt, seq: m.seq };
    expect(m.hash).toBe(
      createHash("sha256")
        .update(prev + JSON.stringify(fields))
        .digest("hex"),
    );
    prev = m.hash;
  });
  expect(verifyMessageChain(messages)).toEqual({ ok: true });
}

function conversationSuite(
  name: string,
  env: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>,
  options: { concurrencyOnly?: boolean } = {},
) {
  describe(name, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void>;
    let api: ApiClient;
    let admin: ApiClient;
    const sockets: RecordingSocket[] = [];

    beforeAll(async () => {
      const setup = await env();
      cleanup = setup.cleanup;
      server = await startServer(
        loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DEV_AUTH: "true", SEED_DEMO: "false", JWT_SECRET: "m".repeat(32), ...setup.env }),
        createLogger("silent"),
      );
      api = new ApiClient(`http://127.0.0.1:${server.port}`);
      admin = api.as(await api.devToken("admin_msg", "admin"));
    });
    afterAll(async () => {
      for (const s of sockets) s.close();
      await server?.stop();
      await cleanup?.();
    });

    async function socketOf(client: ApiClient): Promise<RecordingSocket> {
      const s = await client.socket();
      sockets.push(s);
      return s;
    }

    /** A fresh branch with one advisor and one client, and a request the advisor has accepted. */
    async function assignedConversation() {
      const { branchId, advisorId, clientId, advisorApi, clientApi } = await createConversationWorld(api, admin, "Msg");
      const advisorSocket = await socketOf(advisorApi);
      const clientSocket = await socketOf(clientApi);
      expect((await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
      const created = await clientApi.call("POST", "/v1/requests", { topic: "pension transfer", requiredLicence: "fund_sales", channel: "chat" });
      expect(created.status).toBe(201);
      const requestId: string = created.body.id;
      const offer = await advisorSocket.next((m) => m.type === "offer" && m.offer.requestId === requestId);
      const accepted = await advisorApi.call("POST", `/v1/offers/${offer.message.offer.offerId}/accept`);
      expect(accepted).toMatchObject({ status: 200, body: { requestId, status: "assigned" } });
      return { branchId, advisorId, clientId, requestId, advisorApi, clientApi, advisorSocket, clientSocket };
    }

    const messagesPath = (requestId: string) => `/v1/requests/${requestId}/messages`;

    if (!options.concurrencyOnly) {
      it("client and assigned advisor converse; each receives the other's messages over ws; GET lists them in seq order with a valid chain", async () => {
        const c = await assignedConversation();
        const turns: Array<[ApiClient, RecordingSocket, string]> = [
          [c.clientApi, c.advisorSocket, "Hello, I would like to move my pension."],
          [c.advisorApi, c.clientSocket, "Hi! Happy to help.\nWhich provider is it with?"],
          [c.clientApi, c.advisorSocket, "Acme Life."],
          [c.advisorApi, c.clientSocket, "Thanks — let me check the transfer terms."],
        ];
        const sent: StoredMessage[] = [];
        for (const [sender, otherSocket, body] of turns) {
          const res = await sender.call("POST", messagesPath(c.requestId), { body });
          expect(res.status).toBe(201);
          expect(res.body).toMatchObject({ requestId: c.requestId, body, seq: sent.length + 1 });
          const received = await otherSocket.next((m) => m.type === "message" && m.message.id === res.body.id);
          expect(received.message.message).toEqual(res.body);
          sent.push(res.body);
        }
        expect(sent.map((m) => m.senderRole)).toEqual(["client", "advisor", "client", "advisor"]);
        expect(sent.map((m) => m.senderId)).toEqual([c.clientId, c.advisorId, c.clientId, c.advisorId]);

        for (const reader of [c.clientApi, c.advisorApi]) {
          const list = await reader.call("GET", messagesPath(c.requestId));
          expect(list.status).toBe(200);
          expect(list.body.messages).toEqual(sent);
          recomputeChain(list.body.messages);
        }

        // Free text is validated: 1..4000 characters, no control characters.
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "   " })).status).toBe(400);
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "x".repeat(4001) })).status).toBe(400);
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "bell\u0007" })).status).toBe(400);
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "x".repeat(4000) })).status).toBe(201);
      });

      it("a retried send with the same Idempotency-Key stores and delivers nothing twice, even after the close; another body under the key is a 409", async () => {
        const c = await assignedConversation();
        const send = (body: string, key: string, who = c.clientApi) => who.call("POST", messagesPath(c.requestId), { body }, { "idempotency-key": key });
        const first = await send("Can we talk about my ISA?", "k-1");
        expect(first.status).toBe(201);
        await c.advisorSocket.next((m) => m.type === "message" && m.message.id === first.body.id);
        const retries = await Promise.all([
          send("Can we talk about my ISA?", "k-1"),
          send("Can we talk about my ISA?", "k-1"),
          send("Can we talk about my ISA?", "k-1"),
        ]);
        expect(retries.map((r) => [r.status, r.body.id])).toEqual([
          [200, first.body.id],
          [200, first.body.id],
          [200, first.body.id],
        ]);
        expect((await send("Something else", "k-1")).body.error.code).toBe("IDEMPOTENCY_CONFLICT");
        // Keys are per sender: the advisor's "k-1" is a different message.
        expect((await send("Of course.", "k-1", c.advisorApi)).status).toBe(201);
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "bad key" }, { "idempotency-key": "has space" })).status).toBe(400);

        expect((await c.advisorApi.call("POST", `/v1/requests/${c.requestId}/complete`)).status).toBe(200);
        expect((await send("Can we talk about my ISA?", "k-1")).status).toBe(200);
        expect((await send("A new one after the close", "k-2")).status).toBe(403);

        const list = await c.clientApi.call("GET", messagesPath(c.requestId));
        expect(list.body.messages.map((m: StoredMessage) => m.body)).toEqual(["Can we talk about my ISA?", "Of course."]);
        expect(list.body.messages[0]).not.toHaveProperty("idempotencyKey");
        recomputeChain(list.body.messages);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(c.advisorSocket.messages.filter((m) => m.message.type === "message" && m.message.message.id === first.body.id)).toHaveLength(1);
      });

      it("third parties cannot read (404) and get 403 on write; readers who are not parties get 403 on write; after completion nobody may write", async () => {
        const c = await assignedConversation();
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "before" })).status).toBe(201);

        const other = await assignedConversation();
        const otherClient = other.clientApi;
        const otherAdvisor = other.advisorApi;
        const otherManager = api.as(await api.devToken("mgr_other", "manager", other.branchId));
        for (const stranger of [otherClient, otherAdvisor, otherManager]) {
          const read = await stranger.call("GET", messagesPath(c.requestId));
          const write = await stranger.call("POST", messagesPath(c.requestId), { body: "let me in" });
          expect([read.status, write.status]).toEqual([404, 403]);
          expect(write.body.error.code).toBe("FORBIDDEN");
        }
        expect((await otherClient.call("POST", messagesPath("req_doesnotexist0000"), { body: "hello?" })).status).toBe(404);

        const manager = api.as(await api.devToken("mgr_own", "manager", c.branchId));
        const compliance = api.as(await api.devToken("cmp_1", "compliance"));
        for (const reader of [manager, compliance, admin]) {
          const read = await reader.call("GET", messagesPath(c.requestId));
          expect(read.status).toBe(200);
          expect(read.body.messages.map((m: StoredMessage) => m.body)).toEqual(["before"]);
          const write = await reader.call("POST", messagesPath(c.requestId), { body: "I am reading along" });
          expect(write.status).toBe(403);
          expect(write.body.error.code).toBe("FORBIDDEN");
        }

        expect((await c.advisorApi.call("POST", `/v1/requests/${c.requestId}/complete`)).status).toBe(200);
        for (const party of [c.clientApi, c.advisorApi]) {
          const write = await party.call("POST", messagesPath(c.requestId), { body: "one more thing" });
          expect(write.status).toBe(403);
          expect(write.body.error).toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/closed/) });
          const read = await party.call("GET", messagesPath(c.requestId));
          expect(read.status).toBe(200);
          expect(read.body.messages).toHaveLength(1);
          recomputeChain(read.body.messages);
        }
      });

      it("cancelling an assigned request closes the conversation", async () => {
        const c = await assignedConversation();
        expect((await c.advisorApi.call("POST", messagesPath(c.requestId), { body: "hello" })).status).toBe(201);
        expect((await c.clientApi.call("POST", `/v1/requests/${c.requestId}/cancel`)).status).toBe(200);
        expect((await c.clientApi.call("POST", messagesPath(c.requestId), { body: "bye" })).status).toBe(403);
        expect((await c.advisorApi.call("POST", messagesPath(c.requestId), { body: "bye" })).status).toBe(403);
      });
    }

    it("50 concurrent senders, 10 messages each: nothing lost, seq 1..N without gaps, per-sender order kept, chain verifies, all delivered", async () => {
      const c = await assignedConversation();
      const SENDERS = 50;
      const PER_SENDER = 10;
      const senders = Array.from({ length: SENDERS }, (_, i) => ({ name: `s${String(i).padStart(2, "0")}`, api: i % 2 === 0 ? c.clientApi : c.advisorApi }));
      const results = await Promise.all(
        senders.map(async (sender) => {
          const statuses: number[] = [];
          for (let k = 0; k < PER_SENDER; k++) {
            const res = await sender.api.call("POST", messagesPath(c.requestId), { body: `${sender.name}:${k}` });
            statuses.push(res.status);
          }
          return statuses;
        }),
      );
      expect(results.flat().filter((s) => s !== 201)).toEqual([]);
      const total = SENDERS * PER_SENDER;

      const list = await c.clientApi.call("GET", messagesPath(c.requestId));
      expect(list.status).toBe(200);
      const messages: StoredMessage[] = list.body.messages;
      expect(messages).toHaveLength(total);
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Set(messages.map((m) => m.body)).size).toBe(total);
      for (const sender of senders) {
        const mine = messages.filter((m) => m.body.startsWith(`${sender.name}:`)).map((m) => m.body);
        expect(mine).toEqual(Array.from({ length: PER_SENDER }, (_, k) => `${sender.name}:${k}`));
      }
      for (const m of messages) {
        const index = Number(m.body.slice(1, 3));
        expect(m.senderRole).toBe(index % 2 === 0 ? "client" : "advisor");
      }
      recomputeChain(messages);

      // Both parties' sockets receive every message.
      for (const socket of [c.clientSocket, c.advisorSocket]) {
        const deadline = Date.now() + 10_000;
        const count = () => socket.messages.filter((m) => m.message.type === "message" && m.message.message.requestId === c.requestId).length;
        while (count() < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(count()).toBe(total);
      }
    });
  });
}

describe("connections follow the request's lifecycle (engine on embedded PGlite)", () => {
  let db: Database;
  beforeAll(async () => {
    db = await openMigratedPglite();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("assignment opens one connection; completion closes it once; cancelling an assigned request closes it as cancelled", async () => {
    const w = await createWorld(db, createMemoryMatchingStore());
    const advisorId = await w.addAdvisor();
    expect((await w.engine.setPresence(advisorId, "available")).ok).toBe(true);
    const clientId = await w.addClient();
    const create = async () => {
      const created = await w.engine.createRequest({
        clientId,
        topic: "pension",
        requiredLicence: "fund_sales",
        channel: "chat",
        mode: "auto",
        language: null,
        priority: 0,
      });
      if (!created.ok) throw new Error("not created");
      const offer = ((await w.store.getRequest(created.requestId))?.offers ?? []).find((o) => o.outcome === null);
      expect((await w.engine.accept(offer!.id, advisorId)).ok).toBe(true);
      return created.requestId;
    };

    const completed = await create();
    const open = await openConnectionFor(db.prisma, completed);
    expect(open).toMatchObject({ requestId: completed, clientId, advisorId, closedAt: null, closeReason: null });
    expect(await connectionsOf(db.prisma, completed)).toHaveLength(1);

    expect(await w.engine.complete(completed, advisorId)).toEqual({ ok: true, duplicate: false });
    expect(await openConnectionFor(db.prisma, completed)).toBeNull();
    const [closed] = await connectionsOf(db.prisma, completed);
    expect(closed).toMatchObject({ id: open!.id, closeReason: "completed" });
    expect(closed!.closedAt).toBeInstanceOf(Date);

    const cancelled = await create();
    expect(await openConnectionFor(db.prisma, cancelled)).not.toBeNull();
    expect((await w.engine.cancel(cancelled, clientId)).ok).toBe(true);
    expect(await connectionsOf(db.prisma, cancelled)).toEqual([expect.objectContaining({ closeReason: "cancelled", advisorId })]);

    // A request cancelled before anyone took it never had a connection.
    await w.engine.setPresence(advisorId, "away");
    const unassigned = await w.engine.createRequest({
      clientId,
      topic: "isa",
      requiredLicence: "fund_sales",
      channel: "chat",
      mode: "auto",
      language: null,
      priority: 0,
    });
    if (!unassigned.ok) throw new Error("not created");
    expect((await w.engine.cancel(unassigned.requestId, clientId)).ok).toBe(true);
    expect(await connectionsOf(db.prisma, unassigned.requestId)).toEqual([]);
  });
});

conversationSuite("recorded conversation: embedded PGlite + memory store", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-msg-"));
  return { env: { DATA_DIR: dataDir }, cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
});

describeWithServices("recorded conversation on PostgreSQL + Redis", [await probePostgres(), await probeRedis()], () => {
  conversationSuite(
    "recorded conversation: PostgreSQL + Redis (private database)",
    async () => {
      const scratch: ScratchDatabase = await createScratchDatabase();
      return { env: { DATABASE_URL: scratch.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: testKeyPrefix() }, cleanup: () => scratch.drop() };
    },
    { concurrencyOnly: true },
  );
});

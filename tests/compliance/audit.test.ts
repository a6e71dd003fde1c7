/**
 * The tamper-evident audit record on PGlite and on a private PostgreSQL database (the chainer reads
 * the whole event log): append-only triggers, chaining, verification naming the first broken link,
 * seals, the NDJSON export and its roles, and the retention purge.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import { AUDIT_CONSUMER, drainAuditChainer } from "../../compliance/audit/chainer.ts";
import { GENESIS, hashEntry, messageHashFields } from "../../compliance/audit/hash.ts";
import { canonicalJson } from "../../core/canonicalJson.ts";
import { PURGE_ACTION, purgeExpired } from "../../compliance/audit/purge.ts";
import { sealHeads } from "../../compliance/audit/seal.ts";
import { verifyAudit } from "../../compliance/audit/verify.ts";
import { auditRoutes } from "../../api/routes/audit.ts";
import { loadConfig } from "../../core/config.ts";
import type { Database } from "../../platform/database.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { openScratchPostgres } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres, uniqueTag } from "../support/services.ts";
import { authHeaders, createTestApp, openTestDeps, type TestDeps } from "../support/testApp.ts";

const DAY = 86_400_000;

export interface EventSpec {
  type: string;
  at: Date;
  requestId?: string | null;
  branchId?: string | null;
  actor?: string;
}

let counter = 0;

/** Inserts EventLog rows in the given order (seq follows it); returns their ids. */
export async function insertEvents(prisma: PrismaClient, specs: EventSpec[]): Promise<string[]> {
  const tag = uniqueTag();
  const rows = specs.map((s) => {
    const id = `ev_${tag}_${++counter}`;
    const data: Record<string, unknown> = { id, type: s.type, at: s.at.toISOString(), requestId: s.requestId ?? undefined, branchId: s.branchId ?? undefined };
    if (s.actor) data.actor = s.actor;
    return { id, type: s.type, at: s.at, requestId: s.requestId ?? null, branchId: s.branchId ?? null, advisorId: null, data: data as Prisma.InputJsonValue };
  });
  for (let i = 0; i < rows.length; i += 2_000) await prisma.eventLog.createMany({ data: rows.slice(i, i + 2_000) });
  return rows.map((r) => r.id);
}

/** A branch, client and service request (messages reference a request). */
export async function createRequest(prisma: PrismaClient): Promise<string> {
  const tag = uniqueTag();
  const branch = await prisma.branch.create({ data: { id: `brn_a${tag}`, name: "Audit", region: `r${tag}` } });
  const client = await prisma.client.create({ data: { id: `cli_a${tag}`, branchId: branch.id, name: "Cy", riskLevel: 2, language: "en" } });
  const request = await prisma.serviceRequest.create({
    data: { id: `req_a${tag}`, clientId: client.id, branchId: branch.id, topic: "t", requiredLicence: "fund_sales", channel: "chat" },
  });
  return request.id;
}

/** Appends chained messages to a request the way the messages module must (messageHashFields). */
export async function insertMessages(
  prisma: PrismaClient,
  requestId: string,
  bodies: string[],
  sentAt: (i: number) => Date = () => new Date(),
): Promise<string[]> {
  const last = await prisma.message.findFirst({ where: { requestId }, orderBy: { seq: "desc" } });
  let prevHash = last?.hash ?? GENESIS;
  let seq = last?.seq ?? 0;
  const ids: string[] = [];
  for (const [i, body] of bodies.entries()) {
    seq++;
    const row = { id: `msg_${uniqueTag()}${seq}`, requestId, senderId: "cli_x", senderRole: "client", body, sentAt: new Date(sentAt(i).getTime()), seq };
    const hash = hashEntry(prevHash, messageHashFields(row));
    await prisma.message.create({ data: { ...row, prevHash, hash } });
    prevHash = hash;
    ids.push(row.id);
  }
  return ids;
}

/** Runs `sql` with every trigger of `table` off, as the superuser would to tamper. */
export async function tamper(prisma: PrismaClient, table: "AuditEvent" | "Message" | "AuditSeal", sql: string, ...values: unknown[]): Promise<void> {
  await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`ALTER TABLE "${table}" DISABLE TRIGGER ALL`);
    await tx.$executeRawUnsafe(sql, ...values);
    await tx.$executeRawUnsafe(`ALTER TABLE "${table}" ENABLE TRIGGER ALL`);
  });
}

describe("audit hashing", () => {
  it("canonical JSON sorts keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    expect(hashEntry(GENESIS, { a: 1, b: 2 })).toBe(hashEntry(GENESIS, { b: 2, a: 1 }));
    expect(GENESIS).toMatch(/^0{64}$/);
  });

  it("AUDIT_RETENTION_DAYS defaults to 6 years and refuses less than 365 days", () => {
    expect(loadConfig({ LOG_LEVEL: "silent" }).auditRetentionDays).toBe(2190);
    expect(loadConfig({ AUDIT_RETENTION_DAYS: "400" }).auditRetentionDays).toBe(400);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: "364" })).toThrow(/AUDIT_RETENTION_DAYS/);
  });
});

function auditContract(open: () => Promise<Database>) {
  let db: Database;
  let prisma: PrismaClient;
  let total = 0;
  const base = Date.now() - 10 * DAY;

  beforeAll(async () => {
    db = await open();
    prisma = db.prisma;
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  it("chains >= 10,000 events into per-request, per-branch and global streams; a replay appends nothing", async () => {
    const specs: EventSpec[] = [];
    for (let e = 0; e < 20; e++) {
      for (let r = 0; r < 500; r++)
        specs.push({
          type: e === 0 ? "request.created" : "offer.sent",
          at: new Date(base + specs.length),
          requestId: `req_bulk${r}`,
          branchId: "brn_bulk",
          actor: r % 2 ? `cli_${r}` : undefined,
        });
    }
    for (let i = 0; i < 10; i++) specs.push({ type: "policy.changed", at: new Date(base + specs.length), branchId: `brn_p${i % 3}`, actor: "mgr_1" });
    for (let i = 0; i < 5; i++) specs.push({ type: "system.note", at: new Date(base + specs.length) });
    await insertEvents(prisma, specs);
    total = specs.length;

    const run = await drainAuditChainer(prisma);
    expect(run).toEqual({ events: total, appended: total });
    expect(await prisma.auditEvent.count()).toBe(total);
    const stream = await prisma.auditEvent.findMany({ where: { stream: "request:req_bulk7" }, orderBy: { streamSeq: "asc" } });
    expect(stream.map((s) => s.streamSeq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(stream[0]!.prevHash).toBe(GENESIS);
    expect(stream[1]!.prevHash).toBe(stream[0]!.hash);
    expect(stream[0]).toMatchObject({ actor: "cli_7", action: "request.created", subject: "req_bulk7" });
    expect((await prisma.auditEvent.findFirstOrThrow({ where: { stream: "request:req_bulk8" } })).actor).toBe("system");
    expect(await prisma.auditEvent.count({ where: { stream: "branch:brn_p1" } })).toBe(3);
    expect(await prisma.auditEvent.count({ where: { stream: "global" } })).toBe(5);

    // A crash after the appends but before the cursor moved: the same events come again.
    await prisma.eventCursor.update({ where: { consumer: AUDIT_CONSUMER }, data: { lastSeq: 0n } });
    expect(await drainAuditChainer(prisma)).toEqual({ events: total, appended: 0 });
    expect(await prisma.auditEvent.count()).toBe(total);
  }, 300_000);

  it("concurrent chainers fork no stream", async () => {
    const specs: EventSpec[] = [];
    for (let i = 0; i < 300; i++) specs.push({ type: "offer.sent", at: new Date(base + 20_000 + i), requestId: `req_conc${i % 7}` });
    await insertEvents(prisma, specs);
    total += specs.length;
    await Promise.all([
      drainAuditChainer(prisma, { batchSize: 50 }),
      drainAuditChainer(prisma, { batchSize: 70 }),
      drainAuditChainer(prisma, { batchSize: 30 }),
    ]);
    expect(await prisma.auditEvent.count()).toBe(total);
    expect(await prisma.auditEvent.count({ where: { stream: "request:req_conc3" } })).toBe(43);
  }, 300_000);

  it("verifies the whole record (and seals the stream heads) in batches", async () => {
    const first = await sealHeads(prisma);
    expect(first.sealed).toBe(true);
    expect(first.streams).toBe(500 + 3 + 1 + 7);
    expect((await sealHeads(prisma)).sealed).toBe(false); // nothing changed since
    await insertEvents(prisma, [{ type: "offer.sent", at: new Date(base + 30_000), requestId: "req_bulk3" }]);
    total += 1;
    await drainAuditChainer(prisma);
    const second = await sealHeads(prisma);
    expect(second).toMatchObject({ sealed: true, streams: 1 });
    const seals = await prisma.auditSeal.findMany({ orderBy: { seq: "asc" } });
    expect(seals[1]!.prevHash).toBe(seals[0]!.hash);

    let progress = 0;
    const result = await verifyAudit(prisma, { onProgress: () => progress++ });
    console.log(`[audit ${db.kind}] verify of ${result.checked.events} audit events in ${result.checked.streams} streams: ${result.durationMs} ms`);
    expect(result).toMatchObject({ ok: true, checked: { events: total, streams: 511, seals: 2, messages: 0 } });
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect(progress).toBeGreaterThan(1);
  }, 300_000);

  it("the database refuses UPDATE and DELETE on AuditEvent, AuditSeal and Message", async () => {
    const requestId = await createRequest(prisma);
    await insertMessages(prisma, requestId, ["hello"]);
    const row = await prisma.auditEvent.findFirstOrThrow({ where: { stream: "request:req_bulk1" } });
    await expect(prisma.$executeRawUnsafe(`UPDATE "AuditEvent" SET actor = 'mallory' WHERE id = $1`, row.id)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE id = $1`, row.id)).rejects.toThrow(/append-only/);
    await expect(prisma.auditEvent.deleteMany({})).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`UPDATE "Message" SET body = 'edited' WHERE "requestId" = $1`, requestId)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "Message" WHERE "requestId" = $1`, requestId)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`UPDATE "AuditSeal" SET hash = 'x'`)).rejects.toThrow(/append-only/);
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "AuditSeal"`)).rejects.toThrow(/append-only/);
    // Outside a purge transaction the setting is off, even right after one.
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE id = $1`, row.id)).rejects.toThrow(/append-only/);
    expect(await prisma.auditEvent.count({ where: { id: row.id } })).toBe(1);
    expect((await verifyAudit(prisma)).ok).toBe(true);
  }, 120_000);

  it("THE TAMPER TEST: an edited audit entry is named exactly (stream and seq)", async () => {
    const victim = await prisma.auditEvent.findFirstOrThrow({ where: { stream: "request:req_bulk250", streamSeq: 12 } });
    await tamper(prisma, "AuditEvent", `UPDATE "AuditEvent" SET data = jsonb_set(data, '{type}', '"offer.accepted"') WHERE id = $1`, victim.id);
    const broken = await verifyAudit(prisma);
    expect(broken.ok).toBe(false);
    if (broken.ok) return;
    expect(broken.firstBroken).toMatchObject({
      table: "AuditEvent",
      stream: "request:req_bulk250",
      seq: 12,
      id: victim.id,
      field: "hash",
      actual: victim.hash,
    });
    expect(broken.firstBroken.expected).not.toBe(victim.hash);

    // Put it back: the chain verifies again.
    await tamper(prisma, "AuditEvent", `UPDATE "AuditEvent" SET data = $2::jsonb WHERE id = $1`, victim.id, JSON.stringify(victim.data));
    expect((await verifyAudit(prisma)).ok).toBe(true);
  }, 120_000);

  it("THE TAMPER TEST: a deleted entry in the middle of a stream breaks the next link", async () => {
    const victim = await prisma.auditEvent.findFirstOrThrow({ where: { stream: "request:req_bulk42", streamSeq: 10 } });
    const next = await prisma.auditEvent.findFirstOrThrow({ where: { stream: "request:req_bulk42", streamSeq: 11 } });
    await tamper(prisma, "AuditEvent", `DELETE FROM "AuditEvent" WHERE id = $1`, victim.id);
    const broken = await verifyAudit(prisma);
    expect(broken.ok).toBe(false);
    if (broken.ok) return;
    expect(broken.firstBroken).toMatchObject({
      table: "AuditEvent",
      stream: "request:req_bulk42",
      seq: 11,
      id: next.id,
      field: "streamSeq",
      expected: "10",
      actual: "11",
    });

    // Even renumbering the rest of the stream cannot hide the hole: the hashes name it.
    await prisma.auditEvent.create({ data: { ...victim, data: victim.data as Prisma.InputJsonValue } });
    expect((await verifyAudit(prisma)).ok).toBe(true);
  }, 120_000);

  it("THE TAMPER TEST: an edited message is named exactly (request and seq)", async () => {
    const requestId = await createRequest(prisma);
    const ids = await insertMessages(prisma, requestId, ["one", "two", "three", "four", "five"]);
    const ok = await verifyAudit(prisma);
    expect(ok).toMatchObject({ ok: true, checked: { messages: 6 } });
    await tamper(prisma, "Message", `UPDATE "Message" SET body = 'I guarantee a 20% return' WHERE id = $1`, ids[2]);
    const broken = await verifyAudit(prisma);
    expect(broken.ok).toBe(false);
    if (broken.ok) return;
    expect(broken.firstBroken).toMatchObject({ table: "Message", requestId, seq: 3, id: ids[2], field: "hash" });
    await tamper(prisma, "Message", `UPDATE "Message" SET body = 'three' WHERE id = $1`, ids[2]);
    expect((await verifyAudit(prisma)).ok).toBe(true);

    await tamper(prisma, "Message", `DELETE FROM "Message" WHERE id = $1`, ids[1]);
    const deleted = await verifyAudit(prisma);
    expect(deleted.ok).toBe(false);
    if (!deleted.ok) expect(deleted.firstBroken).toMatchObject({ table: "Message", requestId, seq: 3, field: "prevHash" });
  }, 120_000);
}

function purgeContract(open: () => Promise<Database>) {
  let db: Database;
  beforeAll(async () => {
    db = await open();
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  it("deletes only entries and messages older than the retention, and audits itself", async () => {
    const prisma = db.prisma;
    const now = new Date();
    const old = (d: number) => new Date(now.getTime() - d * DAY);
    // One request's stream spans the cut-off: 3 entries past it, 2 inside it (one by a minute).
    const specs: EventSpec[] = [
      { type: "request.created", at: old(500), requestId: "req_span" },
      { type: "system.note", at: old(450) },
      { type: "offer.sent", at: old(400), requestId: "req_span" },
      { type: "offer.sent", at: old(366), requestId: "req_span" },
      { type: "offer.accepted", at: old(364), requestId: "req_span" },
      { type: "request.completed", at: new Date(now.getTime() - 365 * DAY + 60_000), requestId: "req_span" },
      { type: "system.note", at: old(1) },
      { type: "request.created", at: old(2), requestId: "req_young" },
    ];
    await insertEvents(prisma, specs);
    await drainAuditChainer(prisma);
    await sealHeads(prisma);
    const requestId = await createRequest(prisma);
    await insertMessages(prisma, requestId, ["old", "older", "young", "younger"], (i) => (i < 2 ? old(400 + i) : old(10 - i)));
    const youngEntries = await prisma.auditEvent.findMany({ where: { at: { gte: old(365) } }, select: { id: true } });
    expect(youngEntries).toHaveLength(4);

    const result = await purgeExpired(prisma, { retentionDays: 365, now });
    expect(result).toEqual({ cutoff: old(365).toISOString(), auditEvents: 4, messages: 2 });
    expect(await prisma.auditEvent.count({ where: { at: { lt: old(365) } } })).toBe(0);
    expect(await prisma.message.count({ where: { sentAt: { lt: old(365) } } })).toBe(0);
    // Nothing younger than the retention went.
    expect(await prisma.auditEvent.count({ where: { id: { in: youngEntries.map((e) => e.id) } } })).toBe(4);
    expect(await prisma.message.count({ where: { requestId } })).toBe(2);

    const record = await prisma.auditEvent.findFirstOrThrow({ where: { action: PURGE_ACTION } });
    expect(record).toMatchObject({ stream: "global", actor: "system", subject: "global", data: result });
    const global = await prisma.auditEvent.findMany({ where: { stream: "global" }, orderBy: { streamSeq: "asc" } });
    expect(global.map((g) => g.streamSeq)).toEqual([2, 3]); // the first global entry was purged, the chain continues
    expect(global[1]!.prevHash).toBe(global[0]!.hash);

    // The record still verifies (retained entries anchor their streams), and the triggers are back on.
    expect((await verifyAudit(prisma)).ok).toBe(true);
    await expect(prisma.$executeRawUnsafe(`DELETE FROM "AuditEvent" WHERE id = $1`, record.id)).rejects.toThrow(/append-only/);

    // A second run the same day deletes nothing but still records itself.
    expect(await purgeExpired(prisma, { retentionDays: 365, now })).toMatchObject({ auditEvents: 0, messages: 0 });
    expect(await prisma.auditEvent.count({ where: { action: PURGE_ACTION } })).toBe(2);
  }, 120_000);
}

describe("audit record on PGlite", () => auditContract(openMigratedPglite));
describe("audit retention purge on PGlite", () => purgeContract(openMigratedPglite));

const postgresProblem = await probePostgres();
describeWithServices("audit record on PostgreSQL", [postgresProblem], () => auditContract(openScratchPostgres));
describeWithServices("audit retention purge on PostgreSQL", [postgresProblem], () => purgeContract(openScratchPostgres));

describe("audit routes", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createTestApp>;
  let secret: string;
  const as = async (role: "compliance" | "admin" | "manager" | "advisor" | "client") =>
    authHeaders({ sub: `${role}_1`, role, ...(role === "manager" || role === "advisor" ? { branchId: "brn_x" } : {}) } as never, secret);

  beforeAll(async () => {
    t = await openTestDeps("adx-audit-");
    app = createTestApp(t.deps, auditRoutes(t.deps));
    secret = t.deps.config.jwtSecret;
    const prisma = t.deps.backends.database.prisma;
    const start = Date.UTC(2026, 0, 1);
    const specs: EventSpec[] = Array.from({ length: 2_500 }, (_, i) => ({
      type: "offer.sent",
      at: new Date(start + i * 60_000),
      requestId: `req_exp${i % 13}`,
    }));
    await insertEvents(prisma, specs);
    await drainAuditChainer(prisma);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it("GET /v1/audit/export streams NDJSON in seq order between from (inclusive) and to (exclusive)", async () => {
    const from = new Date(Date.UTC(2026, 0, 1) + 100 * 60_000).toISOString();
    const to = new Date(Date.UTC(2026, 0, 1) + 2_300 * 60_000).toISOString();
    const res = await app.request(`/v1/audit/export?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { headers: await as("compliance") });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/x-ndjson/);
    const lines = (await res.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2_200);
    expect(Object.keys(lines[0]!).sort()).toEqual(["action", "actor", "at", "data", "hash", "id", "prevHash", "seq", "stream", "streamSeq", "subject"]);
    expect(lines[0]!.at).toBe(from);
    expect(lines.every((l) => String(l.at) >= from && String(l.at) < to)).toBe(true);
    const seqs = lines.map((l) => l.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("export is for compliance only, and validates from < to", async () => {
    const q = "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z";
    for (const role of ["admin", "manager", "advisor", "client"] as const) {
      expect((await app.request(`/v1/audit/export?${q}`, { headers: await as(role) })).status).toBe(403);
    }
    expect((await app.request(`/v1/audit/export?${q}`)).status).toBe(401);
    expect((await app.request(`/v1/audit/export?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, { headers: await as("compliance") })).status).toBe(400);
    expect((await app.request(`/v1/audit/export?from=yesterday&to=2026-01-01T00:00:00Z`, { headers: await as("compliance") })).status).toBe(400);
  });

  it("GET /v1/audit/verify is for compliance and admin", async () => {
    for (const role of ["compliance", "admin"] as const) {
      const res = await app.request("/v1/audit/verify", { headers: await as(role) });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, checked: { events: 2_500, streams: 13 } });
    }
    for (const role of ["manager", "advisor", "client"] as const) {
      expect((await app.request("/v1/audit/verify", { headers: await as(role) })).status).toBe(403);
    }
  });
});

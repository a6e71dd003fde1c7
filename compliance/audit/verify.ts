/**
 * Recomputes every hash chain: each audit stream (stream by stream, streamSeq ascending), the seal
 * chain (and each sealed head against the entry it names, while that entry is retained), and each
 * request's message chain (by seq). Reads in keyset-paginated batches, never the whole table.
 *
 * After a retention purge a stream may begin past streamSeq 1: its first retained entry is then the
 * anchor (its prevHash names a purged entry). Without any purge, every stream must begin at 1 on
 * GENESIS, and inside a stream every gap, reordering, edit or deletion breaks the chain.
 */
import type { AuditEvent, AuditSeal, Message, PrismaClient } from "../../generated/prisma/client.ts";
import { auditHashFields, GENESIS, hashEntry, messageHashFields, sealHashFields } from "./hash.ts";
import { PURGE_ACTION } from "./purge.ts";
import { SealHeadsSchema } from "./seal.ts";

const BATCH = 2_000;

export interface BrokenLink {
  table: "AuditEvent" | "AuditSeal" | "Message";
  stream?: string;
  requestId?: string;
  /** streamSeq for AuditEvent, seq for AuditSeal and Message. */
  seq: number | string;
  id: string;
  /** What is wrong: "prevHash", "hash", "streamSeq" (a gap) or "head" (a seal names a different hash). */
  field: string;
  expected: string;
  actual: string;
}

export interface Checked {
  events: number;
  streams: number;
  seals: number;
  messages: number;
}

export type VerifyResult = { ok: true; checked: Checked; durationMs: number } | { ok: false; firstBroken: BrokenLink; checked: Checked; durationMs: number };

export interface VerifyOptions {
  onProgress?: (checked: Checked) => void;
}

/** What the three walks share: the counts so far, whether a purge has run, the caller's options. */
interface Walk {
  checked: Checked;
  purged: boolean;
  options: VerifyOptions;
}

export async function verifyAudit(prisma: PrismaClient, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  const walk: Walk = { checked: { events: 0, streams: 0, seals: 0, messages: 0 }, purged: false, options };
  walk.purged = (await prisma.auditEvent.count({ where: { stream: "global", action: PURGE_ACTION } })) > 0;
  const firstBroken = (await verifyStreams(prisma, walk)) ?? (await verifySeals(prisma, walk)) ?? (await verifyMessages(prisma, walk));
  const durationMs = Math.round((performance.now() - started) * 10) / 10;
  return firstBroken ? { ok: false, firstBroken, checked: walk.checked, durationMs } : { ok: true, checked: walk.checked, durationMs };
}

/** Each audit stream, link by link from its first event (or the first kept after a purge). */
async function verifyStreams(prisma: PrismaClient, walk: Walk): Promise<BrokenLink | null> {
  const { checked, purged, options } = walk;
  let stream: string | null = null;
  let expectedSeq = 0;
  let expectedPrev = GENESIS;
  let after: { stream: string; streamSeq: number } | null = null;
  for (;;) {
    const rows: AuditEvent[] = await prisma.auditEvent.findMany({
      where: after ? { OR: [{ stream: { gt: after.stream } }, { stream: after.stream, streamSeq: { gt: after.streamSeq } }] } : {},
      orderBy: [{ stream: "asc" }, { streamSeq: "asc" }],
      take: BATCH,
    });
    if (!rows.length) break;
    for (const row of rows) {
      if (row.stream !== stream) {
        stream = row.stream;
        checked.streams++;
        if (row.streamSeq !== 1 && purged) {
          expectedSeq = row.streamSeq;
          expectedPrev = row.prevHash;
        } else {
          expectedSeq = 1;
          expectedPrev = GENESIS;
        }
      }
      const link = { table: "AuditEvent" as const, stream: row.stream, seq: row.streamSeq, id: row.id };
      if (row.streamSeq !== expectedSeq) return { ...link, field: "streamSeq", expected: String(expectedSeq), actual: String(row.streamSeq) };
      if (row.prevHash !== expectedPrev) return { ...link, field: "prevHash", expected: expectedPrev, actual: row.prevHash };
      const hash = hashEntry(row.prevHash, auditHashFields(row));
      if (hash !== row.hash) return { ...link, field: "hash", expected: hash, actual: row.hash };
      checked.events++;
      expectedSeq++;
      expectedPrev = row.hash;
    }
    const last = rows[rows.length - 1] as AuditEvent;
    after = { stream: last.stream, streamSeq: last.streamSeq };
    options.onProgress?.({ ...checked });
  }

  return null;
}

/** The seal chain, and that each seal's heads still match their events. */
async function verifySeals(prisma: PrismaClient, walk: Walk): Promise<BrokenLink | null> {
  const { checked } = walk;
  let sealPrev = GENESIS;
  let sealAfter = 0n;
  for (;;) {
    const seals: AuditSeal[] = await prisma.auditSeal.findMany({ where: { seq: { gt: sealAfter } }, orderBy: { seq: "asc" }, take: 200 });
    if (!seals.length) break;
    for (const seal of seals) {
      const link = { table: "AuditSeal" as const, seq: seal.seq.toString(), id: seal.seq.toString() };
      if (seal.prevHash !== sealPrev) return { ...link, field: "prevHash", expected: sealPrev, actual: seal.prevHash };
      const hash = hashEntry(seal.prevHash, sealHashFields(seal));
      if (hash !== seal.hash) return { ...link, field: "hash", expected: hash, actual: seal.hash };
      const heads = SealHeadsSchema.parse(seal.heads ?? []);
      if (heads.length) {
        const found = await prisma.auditEvent.findMany({
          where: { OR: heads.map((h) => ({ stream: h.stream, streamSeq: h.streamSeq })) },
          select: { stream: true, streamSeq: true, hash: true },
        });
        const byKey = new Map(found.map((f) => [`${f.streamSeq}@${f.stream}`, f.hash]));
        for (const head of heads) {
          const actual = byKey.get(`${head.streamSeq}@${head.stream}`);
          if (actual !== undefined && actual !== head.hash)
            return { table: "AuditEvent", stream: head.stream, seq: head.streamSeq, id: `seal ${seal.seq}`, field: "head", expected: head.hash, actual };
        }
      }
      checked.seals++;
      sealPrev = seal.hash;
    }
    sealAfter = seals[seals.length - 1]!.seq;
  }

  return null;
}

/** Each request's message chain. */
async function verifyMessages(prisma: PrismaClient, walk: Walk): Promise<BrokenLink | null> {
  const { checked, purged, options } = walk;
  let requestId: string | null = null;
  let msgPrev = GENESIS;
  let msgAfter: { requestId: string; seq: number } | null = null;
  for (;;) {
    const rows: Message[] = await prisma.message.findMany({
      where: msgAfter ? { OR: [{ requestId: { gt: msgAfter.requestId } }, { requestId: msgAfter.requestId, seq: { gt: msgAfter.seq } }] } : {},
      orderBy: [{ requestId: "asc" }, { seq: "asc" }],
      take: BATCH,
    });
    if (!rows.length) break;
    for (const row of rows) {
      if (row.requestId !== requestId) {
        requestId = row.requestId;
        // The first retained message anchors its chain (earlier ones may have been purged).
        msgPrev = row.seq === 1 || !purged ? GENESIS : row.prevHash;
      }
      const link = { table: "Message" as const, requestId: row.requestId, seq: row.seq, id: row.id };
      if (row.prevHash !== msgPrev) return { ...link, field: "prevHash", expected: msgPrev, actual: row.prevHash };
      const hash = hashEntry(row.prevHash, messageHashFields(row));
      if (hash !== row.hash) return { ...link, field: "hash", expected: hash, actual: row.hash };
      checked.messages++;
      msgPrev = row.hash;
    }
    const last = rows[rows.length - 1] as Message;
    msgAfter = { requestId: last.requestId, seq: last.seq };
    options.onProgress?.({ ...checked });
  }
  return null;
}

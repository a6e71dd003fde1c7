/**
 * The audit chainer: a consumer of EventLog (cursor "audit" in EventCursor, like
 * incentives/consumer.ts) that appends one AuditEvent per event to a hash-chained stream:
 * `request:<id>` when the event names a request, else `branch:<id>`, else `global`.
 *
 * Exactly once: AuditEvent.id is the event id, and a batch skips the ids already chained, so a replay
 * after a crash (effects committed, cursor not yet moved) inserts nothing twice. Concurrent chainers
 * are serialised per stream by transaction-scoped advisory locks taken in a fixed order, and the
 * unique (stream, streamSeq) key refuses any append that would still fork a stream.
 */
import { isUniqueViolation } from "../../platform/databaseErrors.ts";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import { auditHashFields, GENESIS, hashEntry } from "./hash.ts";

export const AUDIT_CONSUMER = "audit";
const TX_OPTIONS = { timeout: 120_000, maxWait: 30_000 } as const;

type Tx = Prisma.TransactionClient;

export interface AuditEntryInput {
  id: string;
  stream: string;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  data: unknown;
}

export interface StreamHead {
  streamSeq: number;
  hash: string;
}

/** Locks streams for this transaction (sorted, so two lockers never deadlock). */
export async function lockStreams(tx: Tx, streams: Iterable<string>): Promise<void> {
  const sorted = [...new Set(streams)].sort().map((stream) => `audit:${stream}`);
  if (!sorted.length) return;
  // One round trip: unnest yields the rows in array order, so the locks are still taken sorted.
  await tx.$queryRawUnsafe(`SELECT count(pg_advisory_xact_lock(hashtext(s))) AS locked FROM unnest($1::text[]) AS s`, sorted);
}

/** The last entry of each named stream. */
export async function streamHeads(tx: Tx, streams: string[]): Promise<Map<string, StreamHead>> {
  const heads = new Map<string, StreamHead>();
  if (!streams.length) return heads;
  const rows = await tx.$queryRawUnsafe<{ stream: string; streamSeq: number; hash: string }[]>(
    `SELECT DISTINCT ON (stream) stream, "streamSeq", hash FROM "AuditEvent" WHERE stream = ANY($1::text[]) ORDER BY stream, "streamSeq" DESC`,
    streams,
  );
  for (const row of rows) heads.set(row.stream, { streamSeq: Number(row.streamSeq), hash: row.hash });
  return heads;
}

/** Chains entries onto their streams' heads and inserts them (caller holds the streams' locks). */
export async function appendEntries(tx: Tx, entries: AuditEntryInput[], knownHeads?: Map<string, StreamHead>): Promise<number> {
  if (!entries.length) return 0;
  const heads = knownHeads ?? (await streamHeads(tx, [...new Set(entries.map((e) => e.stream))]));
  const rows: AuditRow[] = [];
  for (const entry of entries) {
    const head = heads.get(entry.stream);
    const streamSeq = (head?.streamSeq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS;
    const at = new Date(entry.at.getTime());
    const hash = hashEntry(prevHash, auditHashFields({ ...entry, at, streamSeq }));
    rows.push({
      id: entry.id,
      stream: entry.stream,
      streamSeq,
      at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      data: entry.data,
      prevHash,
      hash,
    });
    heads.set(entry.stream, { streamSeq, hash });
  }
  // One JSON parameter, in order (seq follows it), rather than createMany's ten parameters a row:
  // for the few hundred events a run chains, Prisma's handling of those parameters held the event
  // loop for tens of milliseconds every run (the latency benchmark's tail, every 2 s).
  await tx.$executeRaw`
    INSERT INTO "AuditEvent" (id, stream, "streamSeq", at, actor, action, subject, data, "prevHash", hash)
    SELECT e.v->>'id', e.v->>'stream', (e.v->>'streamSeq')::int, (e.v->>'at')::timestamp(3), e.v->>'actor', e.v->>'action',
           e.v->>'subject', e.v->'data', e.v->>'prevHash', e.v->>'hash'
    FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) WITH ORDINALITY AS e(v, n)
    ORDER BY e.n`;
  return rows.length;
}

interface AuditRow {
  id: string;
  stream: string;
  streamSeq: number;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  data: unknown;
  prevHash: string;
  hash: string;
}

interface EventRow {
  seq: bigint;
  id: string;
  type: string;
  at: Date;
  requestId: string | null;
  branchId: string | null;
  data: unknown;
}

export function entryForEvent(row: EventRow): AuditEntryInput {
  const stream = row.requestId ? `request:${row.requestId}` : row.branchId ? `branch:${row.branchId}` : "global";
  const data = row.data as Record<string, unknown> | null;
  const actor = data && typeof data === "object" && typeof data.actor === "string" && data.actor ? data.actor : "system";
  return { id: row.id, stream, at: row.at, actor, action: row.type, subject: row.requestId ?? row.branchId ?? "global", data: row.data };
}

export interface ChainRun {
  events: number;
  appended: number;
}

/** Chains the next batch of events; events: 0 means caught up. */
export async function runAuditChainer(prisma: PrismaClient, options: { batchSize?: number } = {}): Promise<ChainRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(async (tx) => {
        const cursor = await tx.eventCursor.findUnique({ where: { consumer: AUDIT_CONSUMER } });
        const batch = await tx.eventLog.findMany({ where: { seq: { gt: cursor?.lastSeq ?? 0n } }, orderBy: { seq: "asc" }, take: options.batchSize ?? 1_000 });
        if (!batch.length) return { events: 0, appended: 0 };
        const entries = batch.map(entryForEvent);
        await lockStreams(
          tx,
          entries.map((e) => e.stream),
        );
        // One array parameter, not one per id (see appendEntries).
        const chained = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM "AuditEvent" WHERE id = ANY(${entries.map((e) => e.id)}::text[])`;
        const done = new Set(chained.map((r) => r.id));
        const appended = await appendEntries(
          tx,
          entries.filter((e) => !done.has(e.id)),
        );
        const last = batch[batch.length - 1]!.seq;
        // GREATEST: a slower concurrent chainer never moves the cursor back.
        await tx.$executeRawUnsafe(
          `INSERT INTO "EventCursor" (consumer, "lastSeq", "updatedAt") VALUES ($1, $2::bigint, now())
           ON CONFLICT (consumer) DO UPDATE SET "lastSeq" = GREATEST("EventCursor"."lastSeq", EXCLUDED."lastSeq"), "updatedAt" = now()`,
          AUDIT_CONSUMER,
          last.toString(),
        );
        return { events: batch.length, appended };
      }, TX_OPTIONS);
    } catch (error) {
      // A unique violation means another chainer won a race; the retry re-reads and skips its work.
      if (attempt < 5 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}

/** Runs batches until caught up (the leader job, and tests). */
export async function drainAuditChainer(prisma: PrismaClient, options: { batchSize?: number; shouldContinue?: () => boolean } = {}): Promise<ChainRun> {
  const total: ChainRun = { events: 0, appended: 0 };
  for (;;) {
    const run = await runAuditChainer(prisma, options);
    total.events += run.events;
    total.appended += run.appended;
    if (!run.events || options.shouldContinue?.() === false) return total;
  }
}

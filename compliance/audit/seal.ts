/**
 * Seals: one AuditSeal row per run, chaining (prevHash = the previous seal's hash) the head
 * (streamSeq, hash) of every stream that changed since the previous seal, up to the highest
 * AuditEvent.seq. Rewriting a stream afterwards would also have to rewrite every later seal.
 */
import { z } from "zod";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { GENESIS, hashEntry, sealHashFields } from "./hash.ts";

export const SealHeadsSchema = z.array(z.object({ stream: z.string(), streamSeq: z.number().int(), hash: z.string() }));
/** One stream's head as a seal records it. */
export type SealHead = z.infer<typeof SealHeadsSchema>[number];

export interface SealResult {
  sealed: boolean;
  seq?: bigint;
  streams: number;
  upToSeq?: bigint;
}

export async function sealHeads(prisma: PrismaClient, options: { now?: Date } = {}): Promise<SealResult> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext('audit-seal')) IS NULL AS locked`);
      const previous = await tx.auditSeal.findFirst({ orderBy: { seq: "desc" } });
      const since = previous?.upToSeq ?? 0n;
      const max = await tx.auditEvent.aggregate({ _max: { seq: true } });
      const upToSeq = max._max.seq ?? 0n;
      if (upToSeq <= since) return { sealed: false, streams: 0 };
      const rows = await tx.$queryRawUnsafe<{ stream: string; streamSeq: number; hash: string }[]>(
        `SELECT DISTINCT ON (stream) stream, "streamSeq", hash FROM "AuditEvent"
         WHERE seq <= $2::bigint AND stream IN (SELECT DISTINCT stream FROM "AuditEvent" WHERE seq > $1::bigint AND seq <= $2::bigint)
         ORDER BY stream, "streamSeq" DESC`,
        since.toString(),
        upToSeq.toString(),
      );
      const heads: SealHead[] = rows.map((r) => ({ stream: r.stream, streamSeq: Number(r.streamSeq), hash: r.hash }));
      const at = options.now ?? new Date();
      const prevHash = previous?.hash ?? GENESIS;
      const hash = hashEntry(prevHash, sealHashFields({ at, upToSeq, heads }));
      const seal = await tx.auditSeal.create({ data: { at, upToSeq, heads: heads as unknown as object, prevHash, hash } });
      return { sealed: true, seq: seal.seq, streams: heads.length, upToSeq };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}

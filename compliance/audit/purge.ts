/**
 * Retention: deletes AuditEvent and Message rows older than the retention period, inside one
 * transaction that turns the append-only triggers' purge setting on (SET LOCAL, so it ends with the
 * transaction), and records what it deleted as an `audit.purged` entry on the `global` stream.
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { newId } from "../../core/ids.ts";
import { appendEntries, lockStreams, streamHeads } from "./chainer.ts";

export const PURGE_ACTION = "audit.purged";
const DAY_MS = 86_400_000;

export interface PurgeResult {
  cutoff: string;
  auditEvents: number;
  messages: number;
}

export async function purgeExpired(prisma: PrismaClient, options: { retentionDays: number; now?: Date }): Promise<PurgeResult> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.retentionDays * DAY_MS);
  return prisma.$transaction(
    async (tx) => {
      await lockStreams(tx, ["global"]);
      // The purge entry chains onto the global head as it was before the delete (which may take it).
      const heads = await streamHeads(tx, ["global"]);
      await tx.$queryRawUnsafe(`SELECT set_config('advisor_dispatch.purge', 'on', true) AS purge`);
      const auditEvents = (await tx.auditEvent.deleteMany({ where: { at: { lt: cutoff } } })).count;
      const messages = (await tx.message.deleteMany({ where: { sentAt: { lt: cutoff } } })).count;
      await tx.$queryRawUnsafe(`SELECT set_config('advisor_dispatch.purge', 'off', true) AS purge`);
      const result = { cutoff: cutoff.toISOString(), auditEvents, messages };
      await appendEntries(
        tx,
        [{ id: newId("auditEvent", now.getTime()), stream: "global", at: now, actor: "system", action: PURGE_ACTION, subject: "global", data: result }],
        heads,
      );
      return result;
    },
    { timeout: 300_000, maxWait: 30_000 },
  );
}

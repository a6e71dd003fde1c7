/** The audit record's leader jobs (scheduled by app/jobs/scheduler.ts). */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Clock } from "../../core/clock.ts";
import { drainAuditChainer } from "./chainer.ts";
import { purgeExpired } from "./purge.ts";
import { sealHeads } from "./seal.ts";

export interface AuditJob {
  name: string;
  schedule: string;
  run(shouldContinue: () => boolean): Promise<Record<string, unknown>>;
}

export function auditJobs(deps: { prisma: PrismaClient; clock: Clock; retentionDays: number }): AuditJob[] {
  return [
    { name: "audit-chainer", schedule: "*/2 * * * * *", run: async (go) => ({ ...(await drainAuditChainer(deps.prisma, { shouldContinue: go })) }) },
    {
      name: "audit-seal",
      schedule: "30 * * * * *",
      run: async () => {
        const seal = await sealHeads(deps.prisma, { now: new Date(deps.clock.now()) });
        return { sealed: seal.sealed, streams: seal.streams, upToSeq: seal.upToSeq?.toString() };
      },
    },
    {
      name: "audit-retention",
      schedule: "0 30 3 * * *",
      run: async () => ({ ...(await purgeExpired(deps.prisma, { retentionDays: deps.retentionDays, now: new Date(deps.clock.now()) })) }),
    },
  ];
}

/** Read models: a branch's leaderboard for the open period, and an advisor's earnings. */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { accountCode } from "./ledger/accounts.ts";
import { balanceOf } from "./ledger/balances.ts";

export interface LeaderboardEntry {
  rank: number;
  advisorId: string;
  name: string;
  points: number;
}

/** Since the branch's last settled period: what is still being competed for. */
async function openPeriodStart(prisma: PrismaClient, branchId: string): Promise<Date> {
  const last = await prisma.settlement.findFirst({ where: { branchId }, orderBy: { periodEnd: "desc" }, select: { periodEnd: true } });
  return last?.periodEnd ?? new Date(0);
}

/** Advisors of the branch by points posted in the open period; equal points share a rank. */
export async function leaderboard(prisma: PrismaClient, branchId: string): Promise<LeaderboardEntry[]> {
  const since = await openPeriodStart(prisma, branchId);
  const [sums, advisors] = await Promise.all([
    prisma.incentiveAward.groupBy({ by: ["advisorId"], where: { branchId, status: "posted", at: { gte: since } }, _sum: { points: true } }),
    prisma.advisor.findMany({ where: { branchId, status: { not: "offboarded" } }, select: { id: true, name: true } }),
  ]);
  const points = new Map(sums.map((s) => [s.advisorId, s._sum.points ?? 0]));
  const rows = advisors
    .map((a) => ({ advisorId: a.id, name: a.name, points: points.get(a.id) ?? 0 }))
    .sort((x, y) => y.points - x.points || (x.advisorId < y.advisorId ? -1 : 1));
  let rank = 0;
  return rows.map((row, i) => {
    if (i === 0 || rows[i - 1]!.points !== row.points) rank = i + 1;
    return { rank, ...row };
  });
}

export interface Earnings {
  advisorId: string;
  balance: { points: number; payable: number };
  rank: number | null;
  recent: Array<{ at: string; ruleId: string; ruleSetVersion: number; points: number; status: string; reason: string | null; eventId: string }>;
}

export async function earnings(prisma: PrismaClient, advisorId: string, branchId: string): Promise<Earnings> {
  const [points, payable, recent, board] = await Promise.all([
    balanceOf(prisma, accountCode.advisorPoints(advisorId)),
    balanceOf(prisma, accountCode.advisorPayable(advisorId)),
    prisma.incentiveAward.findMany({ where: { advisorId }, orderBy: { at: "desc" }, take: 50 }),
    leaderboard(prisma, branchId),
  ]);
  return {
    advisorId,
    balance: { points, payable },
    rank: board.find((e) => e.advisorId === advisorId)?.rank ?? null,
    recent: recent.map((r) => ({
      at: r.at.toISOString(),
      ruleId: r.ruleId,
      ruleSetVersion: r.ruleSetVersion,
      points: r.points,
      status: r.status,
      reason: r.reason,
      eventId: r.eventId,
    })),
  };
}

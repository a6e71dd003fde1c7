/**
 * Reading a branch's settled incentive periods back: a paged list, newest period first, and one
 * settlement with its report and the payroll CSV exactly as they were recorded when the period
 * closed (settlement.ts writes them once; nothing here recomputes them).
 */
import { pageOf, type CursorKeys, type Page, type PageQuery } from "../core/cursor.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { SettlementRecord } from "./settlement.ts";
import { parseSettlementReport } from "./storedJson.ts";

/** One settled period as a list shows it. */
export interface SettlementSummary {
  id: string;
  branchId: string;
  /** The period's name, e.g. "2026-W13". */
  periodKey: string;
  start: Date;
  end: Date;
  closedAt: Date;
  /** Advisors paid in the period. */
  advisors: number;
  /** Points moved to payable in the period. */
  points: number;
}

/** The list's sort keys: period start, then id (unique) as the tie-breaker. */
const keysOf = (row: { start: Date; id: string }): CursorKeys => ({ at: row.start.getTime(), id: row.id });

export function summaryOf(record: SettlementRecord): SettlementSummary {
  const { report } = record;
  return {
    id: record.id,
    branchId: record.branchId,
    periodKey: report.period.key,
    start: record.periodStart,
    end: record.periodEnd,
    closedAt: record.closedAt,
    advisors: report.totals.advisors,
    points: report.totals.points,
  };
}

/** The branch's settlements, newest period first (periodStart desc, id desc). */
export async function listSettlements(prisma: PrismaClient, branchId: string, page: PageQuery): Promise<Page<SettlementSummary>> {
  const after = page.after;
  const rows = await prisma.settlement.findMany({
    where: {
      branchId,
      ...(after ? { OR: [{ periodStart: { lt: new Date(after.at) } }, { periodStart: new Date(after.at), id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ periodStart: "desc" }, { id: "desc" }],
    take: page.limit + 1,
    // The CSV is not needed for a list; the report holds the period key and the totals.
    select: { id: true, branchId: true, periodStart: true, periodEnd: true, closedAt: true, report: true },
  });
  const summaries = rows.map((row) => summaryOf({ ...row, csv: "", report: parseSettlementReport(row.report) }));
  return pageOf(summaries, page.limit, keysOf);
}

/** One settlement of the branch; null when the id is unknown or belongs to another branch. */
export async function getSettlement(prisma: PrismaClient, branchId: string, settlementId: string): Promise<SettlementRecord | null> {
  const row = await prisma.settlement.findFirst({ where: { id: settlementId, branchId } });
  return row ? { ...row, report: parseSettlementReport(row.report) } : null;
}

/**
 * Paged lists of the directory for managers and admins: branches and a branch's clients, oldest
 * first in (createdAt, id) order, so rows created while someone pages through are appended at the
 * end rather than shifting the pages already read.
 */
import { afterKeys, keyOrder, pageOf, rowKeys, type Page, type PageQuery } from "../core/cursor.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { ClientRecord } from "./clients.ts";

export interface BranchListing {
  id: string;
  name: string;
  region: string;
  timezone: string;
  createdAt: Date;
}

/** Every branch, or only `onlyBranchId` (a manager sees their own branch and no other). */
export async function listBranches(prisma: PrismaClient, scope: { onlyBranchId: string | null }, page: PageQuery): Promise<Page<BranchListing>> {
  const rows = await prisma.branch.findMany({
    where: { ...(scope.onlyBranchId === null ? {} : { id: scope.onlyBranchId }), ...afterKeys(page.after, "asc") },
    select: { id: true, name: true, region: true, timezone: true, createdAt: true },
    orderBy: keyOrder("asc"),
    take: page.limit + 1,
  });
  return pageOf(rows, page.limit, rowKeys);
}

/** The clients of one branch. */
export async function listBranchClients(prisma: PrismaClient, branchId: string, page: PageQuery): Promise<Page<ClientRecord>> {
  const rows = await prisma.client.findMany({
    where: { branchId, ...afterKeys(page.after, "asc") },
    select: { id: true, branchId: true, name: true, riskLevel: true, language: true, dedicatedAdvisorId: true, createdAt: true },
    orderBy: keyOrder("asc"),
    take: page.limit + 1,
  });
  return pageOf(rows, page.limit, rowKeys);
}

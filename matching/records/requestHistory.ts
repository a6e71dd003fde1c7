/**
 * Request history from the system of record, newest first in (createdAt, id) order: a branch's
 * requests for its manager, a client's own, the ones assigned to an advisor. Rows reach the record
 * through the journal, so a decision taken a moment ago may show here a moment later (GET
 * /v1/requests/{id} is the read-your-writes view of one request).
 */
import { afterKeys, keyOrder, pageOf, rowKeys, type Page, type PageQuery } from "../../core/cursor.ts";
import type { Prisma, PrismaClient } from "../../generated/prisma/client.ts";
import type { Channel, LicenceKind, Pool, RequestMode, RequestStatus } from "../domain/types.ts";

export const REQUEST_STATUSES = ["pending", "offered", "assigned", "completed", "cancelled", "expired"] as const satisfies readonly RequestStatus[];

export interface RequestSummary {
  id: string;
  clientId: string;
  branchId: string;
  status: RequestStatus;
  /** The funnel pool the request is (or ended) in; null once it ran through every stage (the queue). */
  stage: Pool | null;
  topic: string;
  requiredLicence: LicenceKind;
  channel: Channel;
  mode: RequestMode;
  priority: number;
  assignedAdvisorId: string | null;
  callbackRequested: boolean;
  createdAt: Date;
  offeredAt: Date | null;
  assignedAt: Date | null;
  completedAt: Date | null;
  cancelledAt: Date | null;
  expiredAt: Date | null;
}

/** Whose requests: exactly one owner, so every list is scoped by construction. */
export type RequestOwner = { branchId: string } | { clientId: string } | { assignedAdvisorId: string };

export interface RequestFilter {
  status?: RequestStatus;
  /** createdAt >= from. */
  from?: Date;
  /** createdAt < to. */
  to?: Date;
}

const SUMMARY_SELECT = {
  id: true,
  clientId: true,
  branchId: true,
  status: true,
  stage: true,
  topic: true,
  requiredLicence: true,
  channel: true,
  mode: true,
  priority: true,
  assignedAdvisorId: true,
  callbackRequested: true,
  createdAt: true,
  offeredAt: true,
  assignedAt: true,
  completedAt: true,
  cancelledAt: true,
  expiredAt: true,
} as const satisfies Prisma.ServiceRequestSelect;

export async function listRequests(prisma: PrismaClient, owner: RequestOwner, filter: RequestFilter, page: PageQuery): Promise<Page<RequestSummary>> {
  const createdAt = filter.from || filter.to ? { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } : undefined;
  const rows = await prisma.serviceRequest.findMany({
    where: {
      ...owner,
      ...(filter.status ? { status: filter.status } : {}),
      // The range and the cursor both bound createdAt: AND keeps them from overwriting each other.
      AND: [createdAt ? { createdAt } : {}, afterKeys(page.after, "desc")],
    },
    select: SUMMARY_SELECT,
    orderBy: keyOrder("desc"),
    take: page.limit + 1,
  });
  return pageOf(rows, page.limit, rowKeys);
}

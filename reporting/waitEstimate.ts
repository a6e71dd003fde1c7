/**
 * A waiting client's wait estimate: how long the recent requests of their branch waited for an
 * advisor, computed in PostgreSQL from the record in one statement. What each figure means:
 *
 * - **Window**: the requests of the request's branch (ServiceRequest.branchId) created in the
 *   WAIT_WINDOW_DAYS before `now` (`now - 7 days <= createdAt <= now`); the request asked about
 *   counts too, like any other.
 * - `sampleSize`: of those, the ones with an assignment standing (assignedAt set: assigned,
 *   completed, or cancelled after assignment), whose wait is known.
 * - **Wait**: assignedAt − createdAt, from asking to an advisor accepting (or grabbing) the request.
 *   A request taken back from an advisor who left and assigned again counts from its creation to its
 *   latest assignment.
 * - `medianSeconds`, `p80Seconds`: the waits' 50th and 80th percentiles by `percentile_cont`
 *   (interpolated), rounded to the second; null when sampleSize < MIN_SAMPLE, where a percentile
 *   would describe a handful of requests rather than the branch.
 * - **Unanswered**: requests of the window that ended without an advisor (cancelled with no
 *   assignment, or expired): said in `basis`, because the waits alone describe only the lucky ones.
 *   Requests of the window still waiting are in neither count.
 *
 * The statement reads the request's row by its id and the window by the index on (branchId,
 * createdAt, id): a range scan of one branch's week.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";

export const WAIT_WINDOW_DAYS = 7;
/** Fewer assigned requests than this in the window: no estimate. */
export const MIN_SAMPLE = 5;

export interface WaitEstimate {
  requestId: string;
  status: string;
  /** The request's funnel stage as recorded, "queue" past the last one (as the request view says). */
  stage: string;
  sampleSize: number;
  medianSeconds: number | null;
  p80Seconds: number | null;
  /** What the figures are drawn from, in a sentence a client can be shown. */
  basis: string;
  /** Who may read the request (the caller's access check); not shown. */
  access: { clientId: string; branchId: string; assignedAdvisorId: string | null };
}

interface Row {
  id: string;
  clientId: string;
  branchId: string;
  assignedAdvisorId: string | null;
  status: string;
  stage: string | null;
  sampleSize: number;
  unanswered: number;
  median: number | null;
  p80: number | null;
}

/** UTC wall-clock text of an instant, as the timestamp(3) columns hold it (no session zone involved). */
const utcWall = (at: Date) => at.toISOString().slice(0, 23);

const requests = (n: number) => `${n} request${n === 1 ? "" : "s"}`;

function basisOf(sampleSize: number, unanswered: number): string {
  const window = `in the last ${WAIT_WINDOW_DAYS} days`;
  const ended = unanswered ? `; ${requests(unanswered)} ${unanswered === 1 ? "was" : "were"} cancelled or expired without one` : "";
  if (sampleSize < MIN_SAMPLE) {
    return `too little recent history to estimate: ${requests(sampleSize)} to this branch got an advisor ${window} (at least ${MIN_SAMPLE} are needed)${ended}`;
  }
  return `time from asking to an advisor accepting, over the ${requests(sampleSize)} to this branch that got an advisor ${window}${ended}`;
}

/** The estimate for a request, or null when there is no such request. `now` ends the window. */
export async function waitEstimate(prisma: PrismaClient, requestId: string, now: Date): Promise<WaitEstimate | null> {
  const since = new Date(now.getTime() - WAIT_WINDOW_DAYS * 24 * 3600 * 1000);
  const [row] = await prisma.$queryRaw<Row[]>`
    SELECT r.id, r."clientId", r."branchId", r."assignedAdvisorId", r.status::text AS status, r.stage::text AS stage,
           w."sampleSize", w.unanswered, w.median, w.p80
    FROM "ServiceRequest" r
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE s."assignedAt" IS NOT NULL)::int AS "sampleSize",
             count(*) FILTER (WHERE s."assignedAt" IS NULL AND s.status IN ('cancelled', 'expired'))::int AS unanswered,
             extract(epoch FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY s."assignedAt" - s."createdAt")
               FILTER (WHERE s."assignedAt" IS NOT NULL))::float8 AS median,
             extract(epoch FROM percentile_cont(0.8) WITHIN GROUP (ORDER BY s."assignedAt" - s."createdAt")
               FILTER (WHERE s."assignedAt" IS NOT NULL))::float8 AS p80
      FROM "ServiceRequest" s
      WHERE s."branchId" = r."branchId" AND s."createdAt" >= ${utcWall(since)}::timestamp AND s."createdAt" <= ${utcWall(now)}::timestamp
    ) w
    WHERE r.id = ${requestId}`;
  if (!row) return null;
  const enough = row.sampleSize >= MIN_SAMPLE;
  const seconds = (value: number | null) => (enough && value !== null ? Math.round(value) : null);
  return {
    requestId: row.id,
    status: row.status,
    stage: row.stage ?? "queue",
    sampleSize: row.sampleSize,
    medianSeconds: seconds(row.median),
    p80Seconds: seconds(row.p80),
    basis: basisOf(row.sampleSize, row.unanswered),
    access: { clientId: row.clientId, branchId: row.branchId, assignedAdvisorId: row.assignedAdvisorId },
  };
}

/**
 * Branch KPIs: how a branch's requests fared, per hour or per local day, computed in PostgreSQL from
 * the record (the statements are in reporting/kpiQuery.ts). What each figure means:
 *
 * **Which requests.** A bucket's figures describe the requests of the branch (ServiceRequest.branchId)
 * created in it: the cohort of `from <= createdAt < to` falling in the bucket. Everything that
 * happened to them later (offers, assignment, rating, points), even after the bucket or after `to`,
 * counts in the bucket of their creation, so the numbers of a bucket are the fate of its demand.
 * `total` is the same over the whole range (its percentiles are over all its requests, not a mean
 * of the buckets').
 *
 * **Buckets** are the branch's local hours or days (Branch.timezone, with daylight saving: a local
 * day may last 23 or 25 hours, a repeated local hour is two buckets). Each bucket's `start` is an
 * instant in UTC; the first bucket starts at `from` even when `from` is not on a local boundary.
 * Every bucket of the range is there, empty ones with zero counts and null rates.
 *
 * - `created`: requests created in the bucket.
 * - `assigned`: of those, the ones with an assignment standing (ServiceRequest.assignedAt set: assigned,
 *   completed, or cancelled after assignment; a request taken back from an advisor who left counts
 *   only once assigned again).
 * - `completed`: of those, the ones completed (completedAt set).
 * - `abandoned`: cancelled by the client with no assignment standing (status cancelled, assignedAt null).
 * - `callbacks`: requests whose wait ran out and that were promised a callback (callbackRequested).
 * - `answerRate` = assigned / created; `abandonmentRate` = abandoned / created (null when created = 0).
 * - `timeToFirstOfferMs`: offeredAt − createdAt (the first offer made to anyone), over the requests
 *   that got an offer; p50 and p90 by `percentile_cont` (interpolated, so not always a whole number).
 * - `timeToAcceptMs`: assignedAt − createdAt, the client's wait from asking to an advisor accepting
 *   (or grabbing) the request, over the assigned requests; p50 and p90 the same way.
 * - `answeredByStage`: the assigned requests by the funnel stage they were in when accepted
 *   (ServiceRequest.stage, which assignment leaves as it was); `queue` for requests assigned after the
 *   funnel's last pool, where the stage is null (matching/engine/funnel.ts, stageIndex past the last).
 *   The five counts add up to `assigned`.
 * - `offers`: offers made for the bucket's requests (push and broadcast, any outcome, still open ones
 *   too); `declineRate` = declined / offers, `timeoutRate` = timed_out / offers (null when offers = 0).
 * - `utilisation` = assigned advisor-seconds / available advisor-seconds of the branch's advisors in
 *   the bucket (null when nobody was available in it). Unlike the other figures it is about time in
 *   the bucket, not the bucket's requests:
 *   - *available*: from the presence history (AdvisorPresenceChange, one row per transition the live
 *     store applied: reported by the advisor, or an expiry dated at the last heartbeat plus the
 *     presence TTL). An advisor is available from a change to `available` until their next change,
 *     to `away` or `offline` (an expiry is a change to offline), or until now if there is none; the
 *     span counts for the branch its change row names, clipped to the bucket and to [from, to).
 *     Rows before `from` count: an advisor available since yesterday is available at `from`.
 *   - *assigned*: the sum, over requests assigned to the branch's advisors (Advisor.branchId now,
 *     whatever the request's branch), of the overlap of [assignedAt, completedAt or cancelledAt or
 *     now) with the bucket and with [from, to). Each concurrent request counts in full, and time
 *     assigned while away counts too, so utilisation can exceed 1.
 *   A heartbeat writes no row; presence re-applied after a live-state rebuild writes none either
 *   (it was recorded when reported). What the history can miss is said in matching/presenceHistory.ts.
 * - `meanRating`: mean stars of the ratings given to the bucket's requests (null when none).
 * - `pointsPerCompleted`: incentive points awarded for the bucket's requests / completed (null when
 *   completed = 0). Points are those of the ledger's award transactions whose event (an EventLog
 *   row) belongs to one of the requests, read from their award decisions (IncentiveAward: posted,
 *   written with the transaction, same points, and the event's request as IncentiveAward.requestId,
 *   backfilled for decisions older than the column), less awards whose transaction was reversed since.
 *   Awards for any of a request's events count (accept, completion, rating), even after `to`;
 *   skipped decisions (budget exhausted, a cap) count nothing.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { queryKpis } from "./kpiQuery.ts";

export const KPI_BUCKETS = ["hour", "day"] as const;
export type KpiBucket = (typeof KPI_BUCKETS)[number];

/** Where the API draws the line: a range of at most 400 days, in at most 2,000 buckets. */
export const KPI_LIMITS = { maxDays: 400, maxBuckets: 2_000 };
export type KpiLimits = typeof KPI_LIMITS;

export interface Percentiles {
  p50: number | null;
  p90: number | null;
}

export interface Kpis {
  created: number;
  assigned: number;
  completed: number;
  abandoned: number;
  callbacks: number;
  answerRate: number | null;
  abandonmentRate: number | null;
  timeToFirstOfferMs: Percentiles;
  timeToAcceptMs: Percentiles;
  answeredByStage: { dedicated: number; branch: number; region: number; national: number; queue: number };
  offers: number;
  declineRate: number | null;
  timeoutRate: number | null;
  utilisation: number | null;
  meanRating: number | null;
  pointsPerCompleted: number | null;
}

export interface BranchKpis {
  branchId: string;
  timezone: string;
  from: string;
  to: string;
  bucket: KpiBucket;
  buckets: Array<Kpis & { start: string }>;
  total: Kpis;
}

export interface KpiRange {
  from: Date;
  to: Date;
  bucket: KpiBucket;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Why a range cannot be reported, or null when it can: from must be before to, the range at most
 * `maxDays` long, and it may not need more than `maxBuckets` buckets. The bucket count is judged by
 * the range's length (a daylight-saving change may add one bucket to that).
 */
export function kpiRangeProblem(range: KpiRange, limits: KpiLimits = KPI_LIMITS): string | null {
  const ms = range.to.getTime() - range.from.getTime();
  if (!(ms > 0)) return "from must be before to";
  if (ms > limits.maxDays * DAY_MS) return `the range may span at most ${limits.maxDays} days`;
  const buckets = Math.ceil(ms / (range.bucket === "hour" ? HOUR_MS : DAY_MS));
  if (buckets > limits.maxBuckets)
    return `the range needs ${buckets} ${range.bucket} buckets; at most ${limits.maxBuckets} are allowed (use bucket=day or a shorter range)`;
  return null;
}

export type KpiResult = { ok: true; kpis: BranchKpis } | { ok: false; reason: "UNKNOWN_BRANCH" } | { ok: false; reason: "BAD_RANGE"; message: string };

/** The KPIs of a branch over [from, to), bucketed in the branch's timezone (see the header for each figure). */
export async function branchKpis(prisma: PrismaClient, input: KpiRange & { branchId: string }, limits: KpiLimits = KPI_LIMITS): Promise<KpiResult> {
  const problem = kpiRangeProblem(input, limits);
  if (problem) return { ok: false, reason: "BAD_RANGE", message: problem };
  const branch = await prisma.branch.findUnique({ where: { id: input.branchId }, select: { timezone: true } });
  if (!branch) return { ok: false, reason: "UNKNOWN_BRANCH" };
  const { buckets, total } = await queryKpis(prisma, { ...input, timezone: branch.timezone });
  return {
    ok: true,
    kpis: {
      branchId: input.branchId,
      timezone: branch.timezone,
      from: input.from.toISOString(),
      to: input.to.toISOString(),
      bucket: input.bucket,
      buckets,
      total,
    },
  };
}

/**
 * The branch KPI statements (what each figure means: reporting/kpis.ts): the bucket starts, then
 * every figure but utilisation per bucket and over the range in one GROUP BY GROUPING SETS.
 *
 * Times in the tables are UTC wall-clock timestamps (timestamp(3) without zone), so the range is
 * compared as such and a bucket start is turned into local time with AT TIME ZONE. Bucket starts
 * are found on a quarter-hour grid of instants: every zone in use has offsets in whole quarter
 * hours, so every local hour or midnight falls on the grid, and testing the grid in local time
 * handles daylight saving (a skipped hour has no start, a repeated one two) without date arithmetic
 * in local time. Each request finds its bucket by binary search in the sorted starts (width_bucket).
 *
 * Utilisation is a statement of its own (reporting/utilisationQuery.ts), run beside the facts: its
 * spans of time are cut into buckets, not tagged with one, so they do not fit the facts' stream.
 *
 * The starts come back to the caller and go into the second statement as a parameter, not as a CTE:
 * a CTE is parallel-restricted, and with a parameter PostgreSQL runs the three parts of the facts
 * (requests, offers, award points) in parallel workers (a year of a branch: about 1.5 s to 1 s).
 */
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { KpiBucket, Kpis } from "./kpis.ts";
import { utilisationOf, utilisationSql, type UtilisationRow } from "./utilisationQuery.ts";

export interface KpiQuery {
  branchId: string;
  timezone: string;
  from: Date;
  to: Date;
  bucket: KpiBucket;
}

/** A quarter-hour instant starts a bucket when local time reaches a new hour (or skips into one). */
const HOUR_START = Prisma.sql`extract(minute FROM here) = 0 OR date_trunc('hour', here) <> date_trunc('hour', prev)`;
/** ... or a new local date (which also covers a zone whose midnight is skipped by daylight saving). */
const DAY_START = Prisma.sql`here::date <> prev::date`;

/** UTC wall-clock text of an instant, as the timestamp(3) columns hold it. */
const utcWall = (at: Date) => at.toISOString().slice(0, 23);

/** Bucket starts as UTC ISO strings: `from`, then every local boundary inside the range, in order. */
export function startsSql(q: KpiQuery) {
  return Prisma.sql`
    WITH grid AS (
      SELECT g, (g AT TIME ZONE 'UTC') AT TIME ZONE ${q.timezone}::text AS here,
        ((g - interval '15 minutes') AT TIME ZONE 'UTC') AT TIME ZONE ${q.timezone}::text AS prev
      FROM generate_series(date_trunc('hour', ${utcWall(q.from)}::timestamp), ${utcWall(q.to)}::timestamp, interval '15 minutes') AS g
      WHERE g > ${utcWall(q.from)}::timestamp AND g < ${utcWall(q.to)}::timestamp
    )
    SELECT string_agg(to_char(s, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ',' ORDER BY s) AS starts
    FROM (SELECT ${utcWall(q.from)}::timestamp AS s UNION ALL SELECT g FROM grid WHERE ${q.bucket === "hour" ? HOUR_START : DAY_START}) AS x`;
}

/** The branch's requests of the range, as `r`; the range as constants, so the planner sees its size. */
const requestsOf = (q: KpiQuery) =>
  Prisma.sql`r."branchId" = ${q.branchId} AND r."createdAt" >= ${utcWall(q.from)}::timestamp AND r."createdAt" < ${utcWall(q.to)}::timestamp`;

/**
 * One stream of facts, each tagged with its bucket (1-based): a row per request, and per bucket its
 * offers and its award points (summed first, so they add few rows), so a single GROUP BY makes every
 * figure and no aggregate is joined to another (a join of aggregates is planned on guesses of their
 * sizes, and a nested loop over 8,760 hours each way costs seconds).
 *
 * Points are read from the award decisions (IncentiveAward), each written in the same database
 * transaction as its ledger award transaction, with that transaction's id, its points and its event's
 * request (requestId, so the event log is not joined: that join was most of the statement's time):
 * narrower rows than the ledger's transactions and postings, found by branch and time (an award's
 * `at` is its event's, never before the request). A decision whose transaction has been reversed
 * counts nothing.
 */
export function factsSql(q: KpiQuery, starts: string[]) {
  // A timestamp[] literal: ISO strings without the zone, as the columns hold them.
  const bucketOf = Prisma.sql`width_bucket(r."createdAt", ${`{${starts.map((s) => s.slice(0, 23)).join(",")}}`}::timestamp[])`;
  return Prisma.sql`
    facts AS (
      SELECT ${bucketOf} AS b, 1 AS request,
        r."assignedAt" IS NOT NULL AS assigned,
        r."completedAt" IS NOT NULL AS completed,
        r.status = 'cancelled' AND r."assignedAt" IS NULL AS abandoned,
        r."callbackRequested" AS callback,
        CASE WHEN r."assignedAt" IS NOT NULL THEN coalesce(r.stage::text, 'queue') END AS answered_by,
        round(date_part('epoch', r."offeredAt" - r."createdAt") * 1000) AS first_offer_ms,
        round(date_part('epoch', r."assignedAt" - r."createdAt") * 1000) AS accept_ms,
        rt.stars::float8 AS stars,
        NULL::bigint AS offers, NULL::bigint AS declined, NULL::bigint AS timed_out, NULL::bigint AS points
      FROM "ServiceRequest" r
      LEFT JOIN "Rating" rt ON rt."requestId" = r.id
      WHERE ${requestsOf(q)}
      UNION ALL
      SELECT ${bucketOf}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        count(*), count(*) FILTER (WHERE o.outcome = 'declined'), count(*) FILTER (WHERE o.outcome = 'timed_out'), NULL
      FROM "ServiceRequest" r JOIN "Offer" o ON o."requestId" = r.id
      WHERE ${requestsOf(q)}
      GROUP BY 1
      UNION ALL
      SELECT ${bucketOf}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, sum(a.points)
      FROM "IncentiveAward" a
      JOIN "ServiceRequest" r ON r.id = a."requestId"
      WHERE a."branchId" = ${q.branchId} AND a.status = 'posted' AND a.at >= ${utcWall(q.from)}::timestamp AND ${requestsOf(q)}
        AND NOT EXISTS (SELECT 1 FROM "LedgerTransaction" x WHERE x."reversesId" = a."transactionId")
      GROUP BY 1
    )`;
}

/** Per bucket (k = b) and over the range (k = 0), rates divided here. Empty buckets have no row. */
export const AGGREGATE_SQL = Prisma.sql`
  SELECT k, created, assigned, completed, abandoned, callbacks,
    assigned::float8 / nullif(created, 0) AS answer_rate, abandoned::float8 / nullif(created, 0) AS abandonment_rate,
    first_offer_p50, first_offer_p90, accept_p50, accept_p90, by_dedicated, by_branch, by_region, by_national, by_queue,
    offers, declined::float8 / nullif(offers, 0) AS decline_rate, timed_out::float8 / nullif(offers, 0) AS timeout_rate,
    mean_rating, points::float8 / nullif(completed, 0) AS points_per_completed
  FROM (
    SELECT coalesce(b, 0) AS k,
      count(request)::int AS created,
      count(*) FILTER (WHERE assigned)::int AS assigned,
      count(*) FILTER (WHERE completed)::int AS completed,
      count(*) FILTER (WHERE abandoned)::int AS abandoned,
      count(*) FILTER (WHERE callback)::int AS callbacks,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY first_offer_ms) AS first_offer_p50,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY first_offer_ms) AS first_offer_p90,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY accept_ms) AS accept_p50,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY accept_ms) AS accept_p90,
      count(*) FILTER (WHERE answered_by = 'dedicated')::int AS by_dedicated,
      count(*) FILTER (WHERE answered_by = 'branch')::int AS by_branch,
      count(*) FILTER (WHERE answered_by = 'region')::int AS by_region,
      count(*) FILTER (WHERE answered_by = 'national')::int AS by_national,
      count(*) FILTER (WHERE answered_by = 'queue')::int AS by_queue,
      coalesce(sum(offers), 0)::int AS offers,
      sum(declined) AS declined,
      sum(timed_out) AS timed_out,
      avg(stars) AS mean_rating,
      coalesce(sum(points), 0) AS points
    FROM facts GROUP BY GROUPING SETS ((b), ())
  ) AS agg`;

interface Row {
  k: number;
  created: number;
  assigned: number;
  completed: number;
  abandoned: number;
  callbacks: number;
  answer_rate: number | null;
  abandonment_rate: number | null;
  first_offer_p50: number | null;
  first_offer_p90: number | null;
  accept_p50: number | null;
  accept_p90: number | null;
  by_dedicated: number;
  by_branch: number;
  by_region: number;
  by_national: number;
  by_queue: number;
  offers: number;
  decline_rate: number | null;
  timeout_rate: number | null;
  mean_rating: number | null;
  points_per_completed: number | null;
}

function kpisOf(row: Row, utilisation: number | null): Kpis {
  return {
    created: row.created,
    assigned: row.assigned,
    completed: row.completed,
    abandoned: row.abandoned,
    callbacks: row.callbacks,
    answerRate: row.answer_rate,
    abandonmentRate: row.abandonment_rate,
    timeToFirstOfferMs: { p50: row.first_offer_p50, p90: row.first_offer_p90 },
    timeToAcceptMs: { p50: row.accept_p50, p90: row.accept_p90 },
    answeredByStage: { dedicated: row.by_dedicated, branch: row.by_branch, region: row.by_region, national: row.by_national, queue: row.by_queue },
    offers: row.offers,
    declineRate: row.decline_rate,
    timeoutRate: row.timeout_rate,
    utilisation,
    meanRating: row.mean_rating,
    pointsPerCompleted: row.points_per_completed,
  };
}

/** What an empty bucket shows: no requests, so zero counts and no rates, percentiles or means. */
export const EMPTY_KPIS: Kpis = {
  created: 0,
  assigned: 0,
  completed: 0,
  abandoned: 0,
  callbacks: 0,
  answerRate: null,
  abandonmentRate: null,
  timeToFirstOfferMs: { p50: null, p90: null },
  timeToAcceptMs: { p50: null, p90: null },
  answeredByStage: { dedicated: 0, branch: 0, region: 0, national: 0, queue: 0 },
  offers: 0,
  declineRate: null,
  timeoutRate: null,
  utilisation: null,
  meanRating: null,
  pointsPerCompleted: null,
};

/** Runs the statements; the caller has checked the range (reporting/kpis.ts kpiRangeProblem). */
export async function queryKpis(prisma: PrismaClient, q: KpiQuery): Promise<{ buckets: Array<Kpis & { start: string }>; total: Kpis }> {
  const [first] = await prisma.$queryRaw<Array<{ starts: string }>>(startsSql(q));
  if (!first) throw new Error("the KPI bucket statement returned no row");
  const startList = first.starts.split(",");
  // A year's request rows sort for the GROUP BY and the percentiles: in memory, not in temporary
  // files at the default work_mem of 4 MB. The statement's cost estimate turns on JIT compilation,
  // which costs a quarter of a year's run (about 300 ms of compiling in its workers) and saves
  // little in hash joins and sorts. SET LOCAL ends with this transaction.
  // Utilisation runs beside the facts, on its own connection: the two statements share no rows, and
  // side by side a year by hour takes about 1.2 s instead of 1.6 s (bench kpis). It runs without
  // parallel workers: on 2 cores its workers took CPU from the facts' (a year by day about 1.1 s to
  // 0.9 s), and alone it gains little from them.
  const [[, , rows], [, , usage]] = await Promise.all([
    prisma.$transaction([
      prisma.$executeRaw`SET LOCAL work_mem = '32MB'`,
      prisma.$executeRaw`SET LOCAL jit = off`,
      prisma.$queryRaw<Row[]>(Prisma.sql`WITH ${factsSql(q, startList)} ${AGGREGATE_SQL}`),
    ]),
    prisma.$transaction([
      prisma.$executeRaw`SET LOCAL jit = off`,
      prisma.$executeRaw`SET LOCAL max_parallel_workers_per_gather = 0`,
      prisma.$queryRaw<UtilisationRow[]>(utilisationSql(q, startList)),
    ]),
  ]);
  const total = rows.find((r) => r.k === 0);
  if (!total) throw new Error("the KPI statement returned no total row");
  const filled = new Map(rows.map((r) => [r.k, r]));
  const used = new Map(usage.map((r) => [r.k, r]));
  const buckets = startList.map((start, i) => {
    const row = filled.get(i + 1);
    const utilisation = utilisationOf(used.get(i + 1));
    return { start, ...(row ? kpisOf(row, utilisation) : { ...EMPTY_KPIS, utilisation }) };
  });
  return { buckets, total: kpisOf(total, utilisationOf(used.get(0))) };
}

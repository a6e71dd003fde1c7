/**
 * The statements of the staffing advice (what each figure means: reporting/staffing.ts): the local
 * day's bounds in the branch's timezone, its hour starts (the KPIs' own statement, startsSql in
 * reporting/kpiQuery.ts, so daylight-saving days have 23 or 25 hours the same way), then one
 * statement with three kinds of rows: per hour its arrivals and its completed requests' handle
 * times, the branch's handle times over the 28 days ending with the day, and the availability
 * spans of the branch's advisors clipped to the day (cut into hours in reporting/staffing.ts, where
 * the most advisors at once in an hour is a sweep over a few hundred spans).
 */
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import { startsSql } from "./kpiQuery.ts";
import { presenceChangesSql } from "./utilisationQuery.ts";

/** UTC wall-clock text of an instant, as the timestamp(3) columns hold it. */
const utcWall = (at: Date) => at.toISOString().slice(0, 23);

/** Days of history the fallback handle time is the branch's mean over. */
export const HANDLE_FALLBACK_DAYS = 28;

export interface LocalDay {
  timezone: string;
  from: Date;
  to: Date;
  /** The branch's local date at `now`, YYYY-MM-DD. */
  today: string;
}

/**
 * The branch's local day `date` (YYYY-MM-DD) as [from, to) instants, and its local today; null for
 * an unknown branch. PostgreSQL's AT TIME ZONE places a skipped local midnight (a zone whose
 * daylight saving starts at 00:00) at the first instant after it.
 */
export async function localDay(prisma: PrismaClient, branchId: string, date: string, now: Date): Promise<LocalDay | null> {
  const rows = await prisma.$queryRaw<Array<{ timezone: string; from: string; to: string; today: string }>>`
    SELECT b.timezone,
      to_char((${date}::date::timestamp AT TIME ZONE b.timezone) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "from",
      to_char(((${date}::date + 1)::timestamp AT TIME ZONE b.timezone) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "to",
      to_char((${now.toISOString()}::timestamptz AT TIME ZONE b.timezone)::date, 'YYYY-MM-DD') AS today
    FROM "Branch" b WHERE b.id = ${branchId}`;
  const row = rows[0];
  return row ? { timezone: row.timezone, from: new Date(row.from), to: new Date(row.to), today: row.today } : null;
}

/** The day's hour starts (UTC ISO), by the KPIs' statement. */
export async function hourStarts(prisma: PrismaClient, branchId: string, day: LocalDay): Promise<string[]> {
  const [first] = await prisma.$queryRaw<Array<{ starts: string }>>(
    startsSql({ branchId, timezone: day.timezone, from: day.from, to: day.to, bucket: "hour" }),
  );
  if (!first) throw new Error("the staffing hour statement returned no row");
  return first.starts.split(",");
}

export interface HourFacts {
  /** 1-based hour of the day. */
  k: number;
  arrivals: number;
  handled: number;
  handleSeconds: number;
}

export interface AvailableSpan {
  advisorId: string;
  start: Date;
  end: Date;
}

export interface StaffingFacts {
  hours: HourFacts[];
  recent: { handled: number; handleSeconds: number };
  spans: AvailableSpan[];
}

interface Row {
  kind: "hour" | "recent" | "span";
  k: number | null;
  arrivals: number | null;
  handled: number | null;
  handle_s: number | null;
  advisor_id: string | null;
  s: string | null;
  e: string | null;
}

/**
 * Handle time is assignedAt → completedAt of the requests completed (with an assignment standing);
 * a request counts in the hour it was created, like the KPIs. Nothing after `now` counts (a day
 * still running is seen as it stood then): no request created or completed later. Spans end at the advisor's next change
 * (in any branch) or at `now` when there is none, and are clipped to the day and to `now`.
 */
export async function staffingFacts(prisma: PrismaClient, branchId: string, day: LocalDay, starts: string[], now: Date): Promise<StaffingFacts> {
  const from = Prisma.sql`${utcWall(day.from)}::timestamp`;
  const to = Prisma.sql`${utcWall(day.to)}::timestamp`;
  const end = Prisma.sql`least(${to}, ${utcWall(now)}::timestamp)`;
  const handled = Prisma.sql`r."completedAt" <= ${end} AND r."assignedAt" IS NOT NULL`;
  const handleSeconds = Prisma.sql`date_part('epoch', r."completedAt" - r."assignedAt")`;
  const stamp = (t: Prisma.Sql) => Prisma.sql`to_char(${t}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const rows = await prisma.$queryRaw<Row[]>(Prisma.sql`
    WITH ${presenceChangesSql(branchId, from, to)}
    SELECT 'hour' AS kind, width_bucket(r."createdAt", ${`{${starts.map((s) => s.slice(0, 23)).join(",")}}`}::timestamp[]) AS k,
      count(*)::int AS arrivals, count(*) FILTER (WHERE ${handled})::int AS handled,
      coalesce(sum(${handleSeconds}) FILTER (WHERE ${handled}), 0)::float8 AS handle_s,
      NULL::text AS advisor_id, NULL::text AS s, NULL::text AS e
    FROM "ServiceRequest" r
    WHERE r."branchId" = ${branchId} AND r."createdAt" >= ${from} AND r."createdAt" < ${end}
    GROUP BY 2
    UNION ALL
    SELECT 'recent', NULL, NULL, count(*)::int, coalesce(sum(${handleSeconds}), 0)::float8, NULL, NULL, NULL
    FROM "ServiceRequest" r
    WHERE r."branchId" = ${branchId} AND r."createdAt" >= ${to} - make_interval(days => ${HANDLE_FALLBACK_DAYS}) AND r."createdAt" < ${end} AND ${handled}
    UNION ALL
    SELECT 'span', NULL, NULL, NULL, NULL, "advisorId", ${stamp(Prisma.sql`greatest(at, ${from})`)}, ${stamp(Prisma.sql`least(coalesce(next_at, ${end}), ${end})`)}
    FROM changes
    WHERE "branchId" = ${branchId} AND presence = 'available' AND greatest(at, ${from}) < least(coalesce(next_at, ${end}), ${end})`);
  const facts: StaffingFacts = { hours: [], recent: { handled: 0, handleSeconds: 0 }, spans: [] };
  for (const row of rows) {
    if (row.kind === "hour")
      facts.hours.push({ k: Number(row.k), arrivals: Number(row.arrivals), handled: Number(row.handled), handleSeconds: Number(row.handle_s) });
    else if (row.kind === "recent") facts.recent = { handled: Number(row.handled), handleSeconds: Number(row.handle_s) };
    else facts.spans.push({ advisorId: String(row.advisor_id), start: new Date(String(row.s)), end: new Date(String(row.e)) });
  }
  return facts;
}

/**
 * The utilisation statement of the branch KPIs (the definition is in reporting/kpis.ts): assigned
 * advisor-seconds and available advisor-seconds per bucket and over the range, from the presence
 * history (AdvisorPresenceChange) and the requests' assignment times.
 *
 * Both kinds of time come as spans [s, e) already clipped to the range; each span is cut into the
 * buckets it touches (width_bucket of its ends in the bucket edges, then the overlap with each), so
 * the cost is the number of (span, bucket) pieces, not spans times buckets.
 */
import { Prisma } from "../generated/prisma/client.ts";
import type { KpiQuery } from "./kpiQuery.ts";

/** UTC wall-clock text of an instant, as the timestamp(3) columns hold it. */
const utcWall = (at: Date) => at.toISOString().slice(0, 23);

/** `now()` as the columns hold time: an open span (still available, still assigned) ends there. */
const NOW = Prisma.sql`(now() AT TIME ZONE 'UTC')::timestamp(3)`;

/**
 * Two CTEs, `advisors` and `changes`: the presence changes that can start a span in [from, to) for
 * the advisors with a change in the branch before `to`, each with the next change of the same
 * advisor (`next_at`, null for the last), for the availability spans of the KPIs and of the staffing
 * advice (reporting/staffingQuery.ts). `from` and `to` are timestamp expressions.
 */
export function presenceChangesSql(branchId: string, from: Prisma.Sql, to: Prisma.Sql) {
  return Prisma.sql`advisors AS (
      SELECT DISTINCT "advisorId" FROM "AdvisorPresenceChange" WHERE "branchId" = ${branchId} AND at < ${to}
    ),
    changes AS (
      -- The next change of the same advisor ends each one (in any branch: an advisor who moved on).
      -- Only the range's changes and each advisor's last one before it (by the index on advisorId,
      -- at) can start a span in the range, so older history is not read.
      SELECT c."advisorId", c."branchId", c.presence, c.at, lead(c.at) OVER (PARTITION BY c."advisorId" ORDER BY c.at, c.id) AS next_at
      FROM (
        SELECT c.id, c."advisorId", c."branchId", c.presence, c.at
        FROM "AdvisorPresenceChange" c JOIN advisors USING ("advisorId")
        WHERE c.at >= ${from} AND c.at < ${to}
        UNION ALL
        SELECT l.* FROM advisors d CROSS JOIN LATERAL (
          SELECT p.id, p."advisorId", p."branchId", p.presence, p.at FROM "AdvisorPresenceChange" p
          WHERE p."advisorId" = d."advisorId" AND p.at < ${from} ORDER BY p.at DESC, p.id DESC LIMIT 1
        ) AS l
      ) AS c
    )`;
}

/**
 * Rows (k, assigned_s, available_s): k the 1-based bucket, 0 for the whole range; buckets with no
 * time of either kind have no row. `starts` are the bucket starts (UTC ISO), as for the facts.
 */
export function utilisationSql(q: KpiQuery, starts: string[]) {
  const from = Prisma.sql`${utcWall(q.from)}::timestamp`;
  const to = Prisma.sql`${utcWall(q.to)}::timestamp`;
  // The bucket edges: every start, then `to`, so bucket k is [edges[k], edges[k + 1]).
  const edges = `{${[...starts.map((s) => s.slice(0, 23)), utcWall(q.to)].join(",")}}`;
  return Prisma.sql`
    WITH ${presenceChangesSql(q.branchId, from, to)},
    spans AS (
      SELECT false AS assigned, greatest(at, ${from}) AS s, least(coalesce(next_at, ${NOW}), ${to}) AS e
      FROM changes WHERE "branchId" = ${q.branchId} AND presence = 'available'
      UNION ALL
      SELECT true, greatest(r."assignedAt", ${from}), least(coalesce(r."completedAt", r."cancelledAt", ${NOW}), ${to})
      FROM "ServiceRequest" r JOIN "Advisor" a ON a.id = r."assignedAdvisorId"
      WHERE a."branchId" = ${q.branchId} AND r."assignedAt" < ${to} AND coalesce(r."completedAt", r."cancelledAt", ${NOW}) > ${from}
    ),
    pieces AS (
      -- Each span in every bucket it touches (most, an assignment of minutes, in one), in one pass
      -- with no materialized CTE: the edges are a constant of the statement (an array in a row of a
      -- CTE would be copied per row), and a year by hour takes about 10% less than cutting the spans
      -- in two passes over a CTE.
      SELECT assigned, s, e, generate_series(width_bucket(s, ${edges}::timestamp[]), least(width_bucket(e, ${edges}::timestamp[]), ${starts.length})) AS k
      FROM spans WHERE e > s
    )
    SELECT coalesce(k, 0) AS k,
      coalesce(sum(seconds) FILTER (WHERE assigned), 0)::float8 AS assigned_s,
      coalesce(sum(seconds) FILTER (WHERE NOT assigned), 0)::float8 AS available_s
    FROM (
      SELECT assigned, k, date_part('epoch', least(e, (${edges}::timestamp[])[k + 1]) - greatest(s, (${edges}::timestamp[])[k])) AS seconds FROM pieces
    ) AS p
    WHERE seconds > 0
    GROUP BY GROUPING SETS ((k), ())`;
}

export interface UtilisationRow {
  k: number;
  assigned_s: number;
  available_s: number;
}

/** assigned / available, null when no advisor of the branch was available in the bucket. */
export const utilisationOf = (row: UtilisationRow | undefined): number | null => (row && row.available_s > 0 ? row.assigned_s / row.available_s : null);

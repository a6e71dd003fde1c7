/**
 * Names for the statements Prisma sends through adapter-pg, so node-postgres prepares each distinct
 * text once per connection and PostgreSQL keeps its plan, instead of parsing and planning it again
 * on every call (unnamed statements). Measured at 10 requests/s: parse and plan were 40-60% of the
 * PostgreSQL time of the statements on a request's path.
 *
 * Bounded: the first `maxDistinct` distinct texts get a name (a hash of the text, so every process
 * and connection agrees); later ones run unnamed as before, so queries whose text varies (an IN list
 * of varying length) cannot grow each connection's prepared statements without end.
 *
 * Off (DATABASE_PREPARED_STATEMENTS=false) behind a pooler that cannot carry named statements from
 * one transaction to the next (PgBouncer in transaction mode before 1.21).
 */
import { createHash } from "node:crypto";

/** Distinct statement texts named per process: each connection prepares at most this many. */
export const DEFAULT_MAX_PREPARED_STATEMENTS = 500;

/** A statementNameGenerator for adapter-pg: a name for a text, or undefined to run it unnamed. */
export function statementNames(maxDistinct = DEFAULT_MAX_PREPARED_STATEMENTS): (query: { sql: string }) => string | undefined {
  const names = new Map<string, string>();
  return ({ sql }) => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= maxDistinct) return known;
    const name = `adx_${createHash("sha1").update(sql).digest("hex")}`;
    names.set(sql, name);
    return name;
  };
}

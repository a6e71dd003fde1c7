/**
 * Parameterised SQL straight through the database driver, beside Prisma, for the few statements
 * on every request's path (the client's context, the request row, the journal's batch write, the
 * waiting count). Through Prisma's client each statement cost this process about 0.6 ms more CPU
 * than through pg (a loop of the same statement: 763 against 160 µs per call, 7 Dec 2026), and on
 * the hot path there are about seven a flow. Everything else stays on Prisma.
 */
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import { classifyUnavailable, UnavailableError } from "./unavailable.ts";

export interface SqlRunner {
  /**
   * Runs one statement with `$1`… parameters and resolves with its rows as the driver returns them:
   * integers and JSON alike on both, but bigints (count(*)) as strings on pg and numbers on PGlite,
   * so cast in the statement (`::int`). A server error is thrown as the driver's (its SQLSTATE in
   * `code`); a socket error, which alone would not say which dependency failed, as an
   * UnavailableError of the database, so it answers 503 as Prisma's errors do.
   */
  query<Row extends object = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<Row[]>;
}

/** On a pg pool (the one Prisma's adapter uses), statements named by `name` as Prisma's are. */
export function poolSqlRunner(pool: pg.Pool, name?: (query: { sql: string }) => string | undefined): SqlRunner {
  return {
    async query<Row extends object>(text: string, values: readonly unknown[] = []) {
      try {
        const result = await pool.query<Row>({ name: name?.({ sql: text }), text, values: values as unknown[] });
        return result.rows;
      } catch (error) {
        throw attributed(error);
      }
    },
  };
}

/** On embedded PGlite. */
export function pgliteSqlRunner(db: PGlite): SqlRunner {
  return {
    async query<Row extends object>(text: string, values: readonly unknown[] = []) {
      try {
        return (await db.query<Row>(text, values as unknown[])).rows;
      } catch (error) {
        throw attributed(error);
      }
    },
  };
}

/** A driver error that means "unreachable" without naming the dependency, named: the database. */
function attributed(error: unknown): unknown {
  const unavailable = classifyUnavailable(error);
  if (!unavailable || unavailable.dependency) return error;
  return new UnavailableError("database", unavailable.reason, `database ${unavailable.reason}: ${(error as Error).message}`, { cause: error });
}

/**
 * Through a Prisma client, for callers that hold only the client (the simulation's own records):
 * the same statements, at Prisma's cost.
 */
export function prismaSqlRunner(prisma: { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> }): SqlRunner {
  return {
    query: <Row extends object>(text: string, values: readonly unknown[] = []) => prisma.$queryRawUnsafe<Row[]>(text, ...values),
  };
}

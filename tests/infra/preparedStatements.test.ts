/**
 * Named statements: on real PostgreSQL, what Prisma sends through adapter-pg is prepared once per
 * connection under a name derived from its text (pg_prepared_statements shows it), or left unnamed
 * when DATABASE_PREPARED_STATEMENTS is off; the naming is bounded and the same in every process.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { openPostgres, type Database } from "../../platform/database.ts";
import { statementNames } from "../../platform/preparedStatements.ts";
import { createScratchDatabase, type ScratchDatabase } from "../support/scratchDatabase.ts";
import { describeWithServices, probePostgres } from "../support/services.ts";

const nameOf = (sql: string) => `adx_${createHash("sha1").update(sql).digest("hex")}`;

it("names each distinct text by its hash, the same way every time, and stops naming past the bound", () => {
  const names = statementNames(2);
  expect(names({ sql: "SELECT 1" })).toBe(nameOf("SELECT 1"));
  expect(statementNames(2)({ sql: "SELECT 1" })).toBe(nameOf("SELECT 1"));
  expect(names({ sql: "SELECT 2" })).toBe(nameOf("SELECT 2"));
  // Past the bound: new texts run unnamed, the named ones keep their names.
  expect(names({ sql: "SELECT 3" })).toBeUndefined();
  expect(names({ sql: "SELECT 1" })).toBe(nameOf("SELECT 1"));
});

describeWithServices("named statements on PostgreSQL", [await probePostgres()], () => {
  let scratch: ScratchDatabase;
  const opened: Database[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase({ migrate: false });
  });
  afterAll(async () => {
    await Promise.all(opened.map((database) => database.close()));
    await scratch.drop();
  });

  // One connection, so the statement and the look at pg_prepared_statements share a session.
  async function preparedAfterTwoCalls(preparedStatements: boolean): Promise<string[]> {
    const database = await openPostgres(scratch.url, { poolSize: 1, preparedStatements });
    opened.push(database);
    const probe = "SELECT 40 + 2 AS answer";
    for (let i = 0; i < 2; i++) expect(await database.prisma.$queryRawUnsafe(probe)).toEqual([{ answer: 42 }]);
    const rows = await database.prisma.$queryRawUnsafe<Array<{ name: string }>>("SELECT name FROM pg_prepared_statements");
    return rows.map((row) => row.name).filter((name) => name === nameOf(probe));
  }

  it("prepares a statement once per connection under its name", async () => {
    expect(await preparedAfterTwoCalls(true)).toEqual([nameOf("SELECT 40 + 2 AS answer")]);
  });

  it("prepares nothing by name when turned off", async () => {
    expect(await preparedAfterTwoCalls(false)).toEqual([]);
  });
});

/**
 * The relational contract, run on the embedded path (PGlite) and on the real PostgreSQL: migrations
 * apply, models round-trip, and the CHECK and unique constraints hold our invariants.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import { classifyUnavailable } from "../../platform/unavailable.ts";
import { pendingMigrations } from "../../prisma/tools/migrations.ts";
import { openMigratedPglite, openTestPostgres } from "../support/databases.ts";
import { describeWithServices, probePostgres, uniqueTag } from "../support/services.ts";

function databaseContract(open: () => Promise<Database>) {
  let db: Database;
  let tag: string;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
  });

  async function seedBranch() {
    tag = uniqueTag();
    const branch = await db.prisma.branch.create({ data: { id: `brn_t${tag}`, name: "Test", region: `r${tag}` } });
    const advisor = await db.prisma.advisor.create({
      data: {
        id: `adv_t${tag}`,
        branchId: branch.id,
        name: "Ada",
        maxConcurrent: 2,
        languages: ["en", "zh"],
        suitabilityMaxRisk: 3,
        licences: {
          create: {
            id: `lic_t${tag}`,
            kind: "fund_sales",
            number: `FS-${tag}`,
            issuer: "FCA",
            validFrom: new Date(0),
            validUntil: new Date(Date.UTC(2100, 0)),
          },
        },
      },
    });
    const client = await db.prisma.client.create({
      data: { id: `cli_t${tag}`, branchId: branch.id, name: "Cy", riskLevel: 2, language: "en", dedicatedAdvisorId: advisor.id },
    });
    return { branch, advisor, client };
  }

  it("has no pending migrations", async () => {
    expect(await pendingMigrations(db.prisma)).toEqual([]);
  });

  it("round-trips the directory with relations and arrays", async () => {
    const { advisor, client } = await seedBranch();
    const found = await db.prisma.client.findUniqueOrThrow({ where: { id: client.id }, include: { dedicatedAdvisor: { include: { licences: true } } } });
    expect(found.dedicatedAdvisor?.id).toBe(advisor.id);
    expect(found.dedicatedAdvisor?.languages).toEqual(["en", "zh"]);
    expect(found.dedicatedAdvisor?.licences[0]?.kind).toBe("fund_sales");
  });

  it("refuses a risk level outside 1-5 and a suitability scope outside 1-5", async () => {
    const { branch } = await seedBranch();
    await expect(db.prisma.client.create({ data: { id: `cli_bad${tag}`, branchId: branch.id, name: "X", riskLevel: 6, language: "en" } })).rejects.toThrow(
      /riskLevel_range|check constraint/i,
    );
    await expect(
      db.prisma.advisor.create({ data: { id: `adv_bad${tag}`, branchId: branch.id, name: "X", maxConcurrent: 1, languages: [], suitabilityMaxRisk: 0 } }),
    ).rejects.toThrow(/suitabilityMaxRisk_range|check constraint/i);
  });

  it("refuses ratings outside 1-5 stars", async () => {
    const { branch, advisor, client } = await seedBranch();
    const request = await db.prisma.serviceRequest.create({
      data: {
        id: `req_t${tag}`,
        clientId: client.id,
        branchId: branch.id,
        topic: "t",
        requiredLicence: "fund_sales",
        channel: "chat",
        status: "completed",
        assignedAdvisorId: advisor.id,
      },
    });
    await expect(
      db.prisma.rating.create({ data: { id: `rat_t${tag}`, requestId: request.id, advisorId: advisor.id, clientId: client.id, stars: 0 } }),
    ).rejects.toThrow(/stars_range|check constraint/i);
    await expect(
      db.prisma.rating.create({ data: { id: `rat_u${tag}`, requestId: request.id, advisorId: advisor.id, clientId: client.id, stars: 5 } }),
    ).resolves.toBeTruthy();
  });

  it("refuses an assigned request without an assignee", async () => {
    const { branch, client } = await seedBranch();
    await expect(
      db.prisma.serviceRequest.create({
        data: { id: `req_x${tag}`, clientId: client.id, branchId: branch.id, topic: "t", requiredLicence: "futures", channel: "voice", status: "assigned" },
      }),
    ).rejects.toThrow(/assignee_present|check constraint/i);
  });

  it("keeps request idempotency keys unique per client, not globally", async () => {
    const { branch, client } = await seedBranch();
    const base = { branchId: branch.id, topic: "t", requiredLicence: "futures" as const, channel: "chat" as const, idempotencyKey: "k1" };
    await db.prisma.serviceRequest.create({ data: { ...base, id: `req_a${tag}`, clientId: client.id } });
    await expect(db.prisma.serviceRequest.create({ data: { ...base, id: `req_b${tag}`, clientId: client.id } })).rejects.toThrow(/Unique constraint|unique/i);
    const other = await db.prisma.client.create({ data: { id: `cli_o${tag}`, branchId: branch.id, name: "O", riskLevel: 1, language: "en" } });
    await expect(db.prisma.serviceRequest.create({ data: { ...base, id: `req_c${tag}`, clientId: other.id } })).resolves.toBeTruthy();
  });

  it("runs plain statements beside Prisma (sql): typed rows, null and JSON parameters, the same rows Prisma sees", async () => {
    const { client } = await seedBranch();
    const rows = await db.sql.query<{ id: string; risk: number; dedicated: string | null; n: number; doc: unknown }>(
      'SELECT id, "riskLevel" AS risk, $2::text AS dedicated, (count(*) OVER ())::int AS n, $3::jsonb AS doc FROM "Client" WHERE id = $1',
      [client.id, null, JSON.stringify({ a: [1, "two"] })],
    );
    // int4 as a number (a bigint is cast: pg and PGlite return it differently), jsonb parsed.
    expect(rows).toEqual([{ id: client.id, risk: 2, dedicated: null, n: 1, doc: { a: [1, "two"] } }]);
    expect(await db.sql.query("SELECT 1 AS one WHERE false")).toEqual([]);
    // A write through sql is what Prisma reads next, on the same database.
    await db.sql.query('UPDATE "Client" SET name = $2 WHERE id = $1', [client.id, "Renamed"]);
    expect((await db.prisma.client.findUniqueOrThrow({ where: { id: client.id } })).name).toBe("Renamed");
  });

  it("throws a failing plain statement's SQLSTATE, which is not mistaken for an outage", async () => {
    const { client } = await seedBranch();
    const error = await db.sql.query('UPDATE "Client" SET "riskLevel" = 9 WHERE id = $1', [client.id]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "23514" }); // check_violation
    expect(classifyUnavailable(error)).toBeNull();
  });

  it("refuses zero ledger postings and a negative branch budget", async () => {
    const { branch } = await seedBranch();
    const txn = await db.prisma.ledgerTransaction.create({ data: { id: `txn_t${tag}`, idempotencyKey: `k-${tag}`, kind: "test" } });
    const account = await db.prisma.ledgerAccount.create({
      data: { id: `acc_t${tag}`, code: `branch_budget:${branch.id}`, kind: "branch_budget", ownerId: branch.id, branchId: branch.id },
    });
    await expect(db.prisma.ledgerPosting.create({ data: { transactionId: txn.id, accountId: account.id, amount: 0 } })).rejects.toThrow(
      /amount_nonzero|check constraint/i,
    );
    await expect(db.prisma.ledgerAccount.update({ where: { id: account.id }, data: { balance: -1 } })).rejects.toThrow(
      /budget_never_negative|check constraint/i,
    );
    await expect(db.prisma.ledgerTransaction.create({ data: { id: `txn_u${tag}`, idempotencyKey: `k-${tag}`, kind: "test" } })).rejects.toThrow(
      /Unique constraint|unique/i,
    );
  });
}

describe("database contract: embedded PGlite", () => databaseContract(openMigratedPglite));

describeWithServices("database contract: PostgreSQL", [await probePostgres()], () => databaseContract(openTestPostgres));

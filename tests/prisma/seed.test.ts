import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../platform/database.ts";
import { DEMO_COUNTS, demoMissing, seedDemo } from "../../prisma/seed/demo.ts";
import { openMigratedPglite, openTestPostgres } from "../support/databases.ts";
import { describeWithServices, probePostgres } from "../support/services.ts";

async function demoCounts(db: Database) {
  const p = db.prisma;
  return {
    branches: await p.branch.count({ where: { id: { startsWith: "brn_demo_" } } }),
    advisors: await p.advisor.count({ where: { id: { startsWith: "adv_demo_" } } }),
    licences: await p.licence.count({ where: { id: { startsWith: "lic_demo_" } } }),
    clients: await p.client.count({ where: { id: { startsWith: "cli_demo_" } } }),
    policies: await p.dispatchPolicy.count({ where: { branchId: { startsWith: "brn_demo_" } } }),
  };
}

function seedContract(open: () => Promise<Database>) {
  let db: Database;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("is idempotent: seeding twice leaves the same rows", async () => {
    await seedDemo(db.prisma);
    const first = await demoCounts(db);
    const again = await seedDemo(db.prisma);
    expect(Object.values(again.inserted).every((n) => n === 0)).toBe(true);
    expect(await demoCounts(db)).toEqual(first);
    expect(first).toMatchObject({
      branches: DEMO_COUNTS.branches,
      advisors: DEMO_COUNTS.advisors,
      clients: DEMO_COUNTS.clients,
      policies: DEMO_COUNTS.branches,
    });
    expect(await demoMissing(db.prisma)).toBe(false);
  });

  it("has the mix the product needs: 2 regions, 4 licence kinds, some expired, dedicated advisors", async () => {
    await seedDemo(db.prisma);
    const regions = await db.prisma.branch.findMany({ where: { id: { startsWith: "brn_demo_" } }, distinct: ["region"], select: { region: true } });
    expect(regions.length).toBe(2);
    const kinds = await db.prisma.licence.findMany({ where: { id: { startsWith: "lic_demo_" } }, distinct: ["kind"], select: { kind: true } });
    expect(kinds.map((k) => k.kind).sort()).toEqual(["fund_sales", "futures", "insurance", "securities_advisory"]);
    expect(await db.prisma.licence.count({ where: { id: { startsWith: "lic_demo_" }, validUntil: { lt: new Date() } } })).toBeGreaterThan(0);
    expect(await db.prisma.client.count({ where: { id: { startsWith: "cli_demo_" }, dedicatedAdvisorId: { not: null } } })).toBeGreaterThan(20);
  });
}

describe("demo seed: embedded PGlite", () => seedContract(openMigratedPglite));
describeWithServices("demo seed: PostgreSQL", [await probePostgres()], () => seedContract(openTestPostgres));

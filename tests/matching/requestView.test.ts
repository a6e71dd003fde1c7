/**
 * The request view's advisor card (matching/records/requestView.ts) on PostgreSQL and embedded
 * PGlite: the assigned advisor's rating is every rating they were given, by any client for any
 * request, averaged to one decimal; another advisor's ratings do not count; an advisor nobody rated
 * has a null average and a count of 0; a request nobody took has no advisor at all.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { loadRequestView } from "../../matching/records/requestView.ts";
import { openPostgres, type Database } from "../../platform/database.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { describeWithServices, probePostgres, TEST_DATABASE_URL, uniqueTag } from "../support/services.ts";

/** A branch with advisors, two clients, and for each `stars` entry a completed request of `advisor` rated so. */
async function world(prisma: PrismaClient, ratings: Array<{ advisor: string; stars: number }>, advisors: string[]) {
  const tag = uniqueTag();
  const branchId = `brn_v${tag}`;
  await prisma.branch.create({ data: { id: branchId, name: "View branch", region: `r${tag}` } });
  const advisorIds = Object.fromEntries(advisors.map((a) => [a, `adv_v${a}${tag}`]));
  await prisma.advisor.createMany({
    data: advisors.map((a) => ({ id: advisorIds[a]!, branchId, name: `Advisor ${a}`, maxConcurrent: 5, languages: ["en"], suitabilityMaxRisk: 5 })),
  });
  await prisma.licence.createMany({
    data: advisors.map((a) => ({
      id: `lic_v${a}${tag}`,
      advisorId: advisorIds[a]!,
      kind: "fund_sales" as const,
      number: `FS-${a}-${tag}`,
      issuer: "FCA",
      validFrom: new Date("2020-01-01T00:00:00.000Z"),
      validUntil: new Date("2099-01-01T00:00:00.000Z"),
    })),
  });
  const clients = [`cli_v1${tag}`, `cli_v2${tag}`];
  await prisma.client.createMany({ data: clients.map((id) => ({ id, branchId, name: id, riskLevel: 2, language: "en" })) });
  const request = (id: string, clientId: string, status: "pending" | "assigned" | "completed", advisorId: string | null) => ({
    id,
    clientId,
    branchId,
    topic: "pension",
    requiredLicence: "fund_sales" as const,
    channel: "chat" as const,
    status,
    assignedAdvisorId: advisorId,
    createdAt: new Date("2026-04-01T10:00:00.000Z"),
    assignedAt: advisorId ? new Date("2026-04-01T10:00:30.000Z") : null,
    completedAt: status === "completed" ? new Date("2026-04-01T10:20:00.000Z") : null,
  });
  const rated = ratings.map((r, i) => ({ ...r, requestId: `req_vr${i}${tag}`, clientId: clients[i % 2]! }));
  await prisma.serviceRequest.createMany({ data: rated.map((r) => request(r.requestId, r.clientId, "completed", advisorIds[r.advisor]!)) });
  await prisma.rating.createMany({
    data: rated.map((r, i) => ({ id: `rat_v${i}${tag}`, requestId: r.requestId, advisorId: advisorIds[r.advisor]!, clientId: r.clientId, stars: r.stars })),
  });
  const assign = async (advisor: string | null) => {
    const id = `req_va${advisor ?? "none"}${tag}`;
    await prisma.serviceRequest.create({ data: request(id, clients[0]!, advisor ? "assigned" : "pending", advisor ? advisorIds[advisor]! : null) });
    return id;
  };
  return { advisorIds, assign };
}

function suite(open: () => Promise<Database>) {
  return () => {
    let database: Database;
    beforeAll(async () => {
      database = await open();
    }, 60_000);
    afterAll(async () => {
      await database?.close();
    });

    it("the assigned advisor's card carries their rating: mean stars of all their ratings to one decimal, and how many", async () => {
      const { advisorIds, assign } = await world(
        database.prisma,
        [
          // a: 5 4 4 by two clients, mean 4.333…, shown 4.3. b: 1 (not a's).
          { advisor: "a", stars: 5 },
          { advisor: "a", stars: 4 },
          { advisor: "a", stars: 4 },
          { advisor: "b", stars: 1 },
          // c: 5 5 4, mean 4.666…, shown 4.7.
          { advisor: "c", stars: 5 },
          { advisor: "c", stars: 5 },
          { advisor: "c", stars: 4 },
        ],
        ["a", "b", "c", "d"],
      );
      const viewOf = async (advisor: string | null) => (await loadRequestView(database.prisma, await assign(advisor)))!;

      const a = await viewOf("a");
      expect(a.advisor).toEqual({
        id: advisorIds.a,
        name: "Advisor a",
        licence: { kind: "fund_sales", number: expect.stringMatching(/^FS-a-/), validUntil: "2099-01-01T00:00:00.000Z" },
        rating: { average: 4.3, count: 3 },
      });
      expect((await viewOf("b")).advisor?.rating).toEqual({ average: 1, count: 1 });
      expect((await viewOf("c")).advisor?.rating).toEqual({ average: 4.7, count: 3 });
      // Nobody rated d yet.
      expect((await viewOf("d")).advisor?.rating).toEqual({ average: null, count: 0 });
      // No advisor: no card.
      expect((await viewOf(null)).advisor).toBeUndefined();
    });
  };
}

describe("request view on embedded PGlite", suite(openMigratedPglite));

describeWithServices(
  "request view on PostgreSQL",
  [await probePostgres()],
  suite(() => openPostgres(TEST_DATABASE_URL, { poolSize: 3 })),
);

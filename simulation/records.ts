/**
 * The day's cast written into a fresh record (the same tables the directory and seed write), so the
 * engine reads clients, advisors and policies through its production records adapter.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { DispatchPolicy } from "../matching/domain/policy.ts";
import type { Population } from "./population.ts";

const YEAR_MS = 365 * 86_400_000;
const BATCH = 1_000;

async function inBatches<T>(rows: T[], write: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) await write(rows.slice(i, i + BATCH));
}

export async function writePopulation(prisma: PrismaClient, population: Population, policy: DispatchPolicy): Promise<void> {
  const { branches, advisors, arrivals, dayStart } = population;
  await prisma.branch.createMany({ data: branches.map((b) => ({ id: b.id, name: b.name, region: b.region, timezone: b.timezone })) });
  await prisma.dispatchPolicy.createMany({ data: branches.map((b) => ({ branchId: b.id, policy: policy as object, updatedBy: "simulation" })) });
  await inBatches(advisors, (batch) =>
    prisma.advisor.createMany({
      data: batch.map((a) => ({
        id: a.id,
        branchId: a.branchId,
        name: a.id,
        maxConcurrent: a.maxConcurrent,
        languages: a.languages,
        suitabilityMaxRisk: a.suitabilityMaxRisk,
      })),
    }),
  );
  const licences = advisors.flatMap((a) =>
    a.licences.map((kind, i) => ({
      id: `lic_${a.id}_${i}`,
      advisorId: a.id,
      kind,
      number: `SIM-${a.id}-${i}`,
      issuer: "simulation",
      validFrom: new Date(dayStart - YEAR_MS),
      validUntil: new Date(dayStart + YEAR_MS),
    })),
  );
  await inBatches(licences, (batch) => prisma.licence.createMany({ data: batch }));
  await inBatches(arrivals, (batch) =>
    prisma.client.createMany({
      data: batch.map((c) => ({
        id: c.clientId,
        branchId: c.branchId,
        name: c.clientId,
        riskLevel: c.riskLevel,
        language: c.language,
        dedicatedAdvisorId: c.dedicatedAdvisorId,
      })),
    }),
  );
}

/**
 * Demo data: 3 branches in 2 regions, 30 advisors with a mix of licences (a few expired), languages,
 * suitability scopes and capacities, 200 clients (some with dedicated advisors) and a default dispatch
 * policy per branch. Ids are fixed and inserts skip existing rows, so seeding twice changes nothing.
 */
import { seededRandom } from "../../core/random.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { LicenceKind } from "../../generated/prisma/enums.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";

const DAY = 86_400_000;

const BRANCHES = [
  { id: "brn_demo_central", name: "Central", region: "north", timezone: "Europe/London" },
  { id: "brn_demo_harbour", name: "Harbour", region: "north", timezone: "Europe/London" },
  { id: "brn_demo_bay", name: "Bay", region: "south", timezone: "Asia/Shanghai" },
] as const;

const KINDS: LicenceKind[] = ["securities_advisory", "fund_sales", "futures", "insurance"];
const LANGUAGE_SETS = [["en"], ["en", "zh"], ["zh"], ["en", "es"], ["en", "fr"], ["zh", "en"]];
const FIRST = ["Ada", "Ben", "Chen", "Dana", "Eli", "Fang", "Gus", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Ming", "Nora", "Omar"];
const LAST = ["Ashby", "Brook", "Cheng", "Diaz", "Evans", "Fox", "Gao", "Hart", "Iqbal", "Jones", "Klein", "Li", "Moreau", "Ng"];

export const DEMO_COUNTS = { branches: BRANCHES.length, advisors: 30, clients: 200 } as const;

const pad = (n: number) => String(n).padStart(3, "0");

export interface SeedResult {
  inserted: Record<string, number>;
}

export async function seedDemo(prisma: PrismaClient, nowMs: number = Date.now()): Promise<SeedResult> {
  const random = seededRandom(20261123);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const name = () => `${pick(FIRST)} ${pick(LAST)}`;

  const advisors = Array.from({ length: DEMO_COUNTS.advisors }, (_, i) => ({
    id: `adv_demo_${pad(i + 1)}`,
    branchId: BRANCHES[i % BRANCHES.length]!.id,
    name: name(),
    maxConcurrent: 1 + Math.floor(random() * 4),
    languages: [...pick(LANGUAGE_SETS)],
    suitabilityMaxRisk: 1 + Math.floor(random() * 5),
  }));

  const licences = advisors.flatMap((advisor, i) => {
    const kinds = new Set<LicenceKind>([KINDS[i % KINDS.length]!]);
    if (random() < 0.6) kinds.add(pick(KINDS));
    return [...kinds].map((kind, k) => {
      // Every seventh advisor's first licence has lapsed, so eligibility has something to refuse.
      const expired = i % 7 === 3 && k === 0;
      return {
        id: `lic_demo_${pad(i + 1)}_${k}`,
        advisorId: advisor.id,
        kind,
        number: `${kind.slice(0, 3).toUpperCase()}-DEMO-${pad(i + 1)}-${k}`,
        issuer: advisor.branchId === "brn_demo_bay" ? "CSRC" : "FCA",
        validFrom: new Date(nowMs - 2 * 365 * DAY),
        validUntil: new Date(nowMs + (expired ? -30 : 365 + Math.floor(random() * 365)) * DAY),
        verifiedAt: new Date(nowMs - 30 * DAY),
      };
    });
  });

  const clients = Array.from({ length: DEMO_COUNTS.clients }, (_, i) => {
    const branch = BRANCHES[i % BRANCHES.length]!;
    const ownAdvisors = advisors.filter((a) => a.branchId === branch.id);
    return {
      id: `cli_demo_${pad(i + 1)}`,
      branchId: branch.id,
      name: name(),
      riskLevel: 1 + Math.floor(random() * 5),
      language: random() < 0.7 ? "en" : "zh",
      dedicatedAdvisorId: random() < 0.3 ? pick(ownAdvisors).id : null,
    };
  });

  const policies = BRANCHES.map((b) => ({ branchId: b.id, policy: DEFAULT_DISPATCH_POLICY as object, updatedBy: "seed" }));

  // One transaction: a seed interrupted half-way leaves nothing behind.
  const inserted = await prisma.$transaction(async (tx) => ({
    branches: (await tx.branch.createMany({ data: [...BRANCHES], skipDuplicates: true })).count,
    advisors: (await tx.advisor.createMany({ data: advisors, skipDuplicates: true })).count,
    licences: (await tx.licence.createMany({ data: licences, skipDuplicates: true })).count,
    clients: (await tx.client.createMany({ data: clients, skipDuplicates: true })).count,
    dispatchPolicies: (await tx.dispatchPolicy.createMany({ data: policies, skipDuplicates: true })).count,
  }));
  return { inserted };
}

/** True when the demo branches are not there yet (used to seed an empty embedded database on start). */
export async function demoMissing(prisma: PrismaClient): Promise<boolean> {
  return (await prisma.branch.count({ where: { id: { in: BRANCHES.map((b) => b.id) } } })) < BRANCHES.length;
}

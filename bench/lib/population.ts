/**
 * A deterministic synthetic advisor population for benchmarks: many branches in a few regions, a mix
 * of licences, languages, suitability scopes and capacities, about half of them available (or all
 * of them, for throughput runs that should not saturate).
 */
import { seededRandom } from "../../core/random.ts";
import type { AdvisorProfile, LicenceKind, RequestFacts } from "../../matching/domain/types.ts";
import { LICENCE_KINDS } from "../../matching/domain/types.ts";
import type { MatchingStore } from "../../matching/store/port.ts";

export const ADVISORS_PER_BRANCH = 50;
const REGIONS = 10;
const LANGUAGES = ["en", "zh", "es", "fr", "de"];
const YEAR = 365 * 86_400_000;

export function branchOf(i: number): string {
  return `brn_bench_${String(Math.floor(i / ADVISORS_PER_BRANCH)).padStart(5, "0")}`;
}

export function regionOfBranch(branchIndex: number): string {
  return `region_${branchIndex % REGIONS}`;
}

export function benchAdvisor(i: number, now: number, random: () => number): AdvisorProfile {
  const branchIndex = Math.floor(i / ADVISORS_PER_BRANCH);
  const kinds = new Set<LicenceKind>([LICENCE_KINDS[i % LICENCE_KINDS.length]!]);
  if (random() < 0.5) kinds.add(LICENCE_KINDS[Math.floor(random() * LICENCE_KINDS.length)]!);
  const languages = new Set(["en"]);
  if (random() < 0.4) languages.add(LANGUAGES[Math.floor(random() * LANGUAGES.length)]!);
  return {
    id: benchAdvisorId(i),
    branchId: branchOf(i),
    region: regionOfBranch(branchIndex),
    status: "active",
    maxConcurrent: 1 + Math.floor(random() * 4),
    languages: [...languages],
    suitabilityMaxRisk: 1 + Math.floor(random() * 5),
    licences: [...kinds].map((kind, k) => ({
      id: `lic_bench_${i}_${k}`,
      kind,
      number: `B-${i}-${k}`,
      issuer: "FCA",
      validFrom: now - YEAR,
      validUntil: now + YEAR,
      status: "active" as const,
    })),
  };
}

export function benchAdvisorId(i: number): string {
  return `adv_bench_${String(i).padStart(7, "0")}`;
}

export interface PopulateOptions {
  /** Every advisor available, instead of every other one (the selection benchmarks' mix). */
  allAvailable?: boolean;
}

/** Registers `count` advisors, about half available, reporting progress for large populations. */
export async function populate(store: MatchingStore, count: number, now: number, log: (line: string) => void, options: PopulateOptions = {}): Promise<void> {
  const random = seededRandom(count);
  const batch = 500;
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    await Promise.all(
      Array.from({ length: end - start }, async (_, k) => {
        const i = start + k;
        const profile = benchAdvisor(i, now, random);
        await store.upsertAdvisor(profile, now);
        if (options.allAvailable || i % 2 === 0) await store.setPresence(profile.id, "available", now);
      }),
    );
    if (count >= 20_000 && (end % 20_000 === 0 || end === count)) log(`  registered ${end}/${count}`);
  }
}

export function benchRequest(i: number, advisorCount: number, now: number, random: () => number): RequestFacts {
  const branchIndex = Math.floor((random() * advisorCount) / ADVISORS_PER_BRANCH);
  return {
    id: `req_bench_${i}`,
    clientId: `cli_bench_${i}`,
    branchId: `brn_bench_${String(branchIndex).padStart(5, "0")}`,
    region: regionOfBranch(branchIndex),
    requiredLicence: LICENCE_KINDS[i % LICENCE_KINDS.length]!,
    riskLevel: 1 + Math.floor(random() * 4),
    language: random() < 0.8 ? "en" : null,
    priority: 0,
    dedicatedAdvisorId: null,
    mode: "auto",
    createdAt: now,
  };
}

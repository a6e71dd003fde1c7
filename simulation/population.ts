/**
 * A scenario expanded into the day's cast, once per seed and the same for every policy compared:
 * branches, advisors (with who does not turn up), and every client arrival with its needs and
 * patience. Ids are made from positions (`adv_sim_b3_12`), so they are the same on every run.
 */
import type { LicenceKind } from "../matching/domain/types.ts";
import { createSampler, deriveSeed } from "./sampling.ts";
import type { Behaviour, Scenario } from "./scenario.ts";

export interface SimBranch {
  id: string;
  name: string;
  region: string;
  timezone: string;
}

export interface SimAdvisor {
  id: string;
  branchId: string;
  region: string;
  licences: LicenceKind[];
  suitabilityMaxRisk: number;
  languages: string[];
  maxConcurrent: number;
  shifts: Array<{ startMs: number; endMs: number }>;
  behaviour: Behaviour;
  noShow: boolean;
}

export interface Arrival {
  at: number;
  clientId: string;
  branchId: string;
  requiredLicence: LicenceKind;
  riskLevel: number;
  language: string;
  dedicatedAdvisorId: string | null;
  patienceMs: number;
}

export interface Population {
  dayStart: number;
  branches: SimBranch[];
  advisors: SimAdvisor[];
  arrivals: Arrival[];
}

const HOUR_MS = 3_600_000;

export function buildPopulation(scenario: Scenario, seed: number): Population {
  const sample = createSampler(deriveSeed(seed, "population"));
  const dayStart = Date.parse(`${scenario.date}T00:00:00.000Z`);
  const branches: SimBranch[] = [];
  const advisors: SimAdvisor[] = [];
  const arrivals: Arrival[] = [];
  scenario.regions.forEach((region, r) => {
    region.branches.forEach((spec) => {
      const branch: SimBranch = { id: `brn_sim_${branches.length}`, name: spec.name, region: `sim_${r}_${region.name}`, timezone: spec.timezone };
      branches.push(branch);
      const own: SimAdvisor[] = [];
      spec.advisors.forEach((group) => {
        for (let i = 0; i < group.count; i++) {
          own.push({
            id: `adv_sim_${branches.length - 1}_${own.length}`,
            branchId: branch.id,
            region: branch.region,
            licences: group.licences,
            suitabilityMaxRisk: group.suitabilityMaxRisk,
            languages: group.languages,
            maxConcurrent: group.maxConcurrent,
            shifts: group.shifts.map((s) => ({ startMs: dayStart + s.start * HOUR_MS, endMs: dayStart + s.end * HOUR_MS })),
            behaviour: { ...scenario.behaviour, ...group.behaviour },
            noShow: false,
          });
        }
      });
      for (const advisor of own) advisor.noShow = sample.chance(advisor.behaviour.noShowRate);
      advisors.push(...own);
      // Arrivals: a Poisson process at each hour's rate (memoryless, so each hour starts afresh).
      for (let hour = 0; hour < 24; hour++) {
        const rate = spec.demand.perHour[hour]!;
        if (rate <= 0) continue;
        const end = dayStart + (hour + 1) * HOUR_MS;
        for (let at = dayStart + hour * HOUR_MS + sample.gapMs(rate); at < end; at += sample.gapMs(rate)) {
          const dedicated = own.length > 0 && sample.chance(spec.demand.dedicatedShare) ? own[sample.index(own.length)]!.id : null;
          arrivals.push({
            at: Math.floor(at),
            clientId: `cli_sim_${arrivals.length}`,
            branchId: branch.id,
            requiredLicence: sample.pick(spec.demand.licences),
            riskLevel: sample.pick(spec.demand.riskLevels),
            language: sample.pick(spec.demand.languages),
            dedicatedAdvisorId: dedicated,
            patienceMs: sample.durationMs(spec.demand.patience),
          });
        }
      }
    });
  });
  // Time order, then id order: the arrival list is the day's script.
  arrivals.sort((a, b) => a.at - b.at || (a.clientId < b.clientId ? -1 : 1));
  return { dayStart, branches, advisors, arrivals };
}

/**
 * matchesCandidateQuery (the check a reader makes on each index hit) against the Redis key layout
 * (the lists a state is filed in, the lists a query reads): for any advisor state and query, the
 * advisor matches exactly when one of the query's lists is one of the advisor's. So dropping a hit
 * the predicate rejects drops exactly a stale entry, as building the state's keys would.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LICENCE_KINDS, PRESENCES, type AdvisorProfile } from "../../matching/domain/types.ts";
import { EMPTY_STATS } from "../../matching/domain/ranking.ts";
import { matchesCandidateQuery } from "../../matching/store/candidateMembership.ts";
import type { AdvisorState, CandidateQuery } from "../../matching/store/port.ts";
import { candidateEntries, candidateQueryKeys, keySpace } from "../../matching/store/redis/keys.ts";

const keys = keySpace("adx:");
// Few values each, so states and queries often meet (the first of each list is the likely one),
// and odd ones where escaping or case folding matters.
const poolIds = fc.oneof({ arbitrary: fc.constant("br_1"), weight: 4 }, { arbitrary: fc.constantFrom("br_2", "*", "a}b", "%002a"), weight: 1 });
const languages = fc.oneof({ arbitrary: fc.constantFrom("en", "EN"), weight: 4 }, { arbitrary: fc.constantFrom("fr", "De", "*", "es"), weight: 1 });
const risks = fc.oneof(
  { arbitrary: fc.constantFrom(1, 2, 3, 4, 5), weight: 4 },
  { arbitrary: fc.constantFrom(-1, 0, 0.5, 2.5, 5.5, 9, Number.NaN), weight: 1 },
);
const kinds = fc.oneof({ arbitrary: fc.constant("fund_sales" as const), weight: 3 }, { arbitrary: fc.constantFrom(...LICENCE_KINDS), weight: 1 });
const likely = <T>(first: T, ...others: T[]) =>
  fc.oneof({ arbitrary: fc.constant(first), weight: 4 }, { arbitrary: fc.constantFrom(first, ...others), weight: 1 });

const state: fc.Arbitrary<AdvisorState> = fc
  .record({
    branchId: poolIds,
    region: poolIds,
    status: likely("active", "suspended", "offboarded"),
    maxConcurrent: fc.integer({ min: 0, max: 4 }),
    languages: fc.array(languages, { maxLength: 3 }),
    suitabilityMaxRisk: risks,
    licences: fc.array(fc.record({ kind: kinds, status: likely("active", "suspended", "revoked") }), { maxLength: 3 }),
    presence: likely(...PRESENCES),
    assignments: fc.integer({ min: 0, max: 2 }),
    lastAssignedAt: fc.constantFrom(0, 1_000, Number.NaN),
  })
  .map((s) => {
    const profile = {
      id: "adv_1",
      branchId: s.branchId,
      region: s.region,
      status: s.status,
      maxConcurrent: s.maxConcurrent,
      languages: s.languages,
      suitabilityMaxRisk: s.suitabilityMaxRisk,
      licences: s.licences.map((l, i) => ({ id: `lic_${i}`, number: "N", issuer: "I", validFrom: 0, validUntil: 1, ...l })),
    } as AdvisorProfile;
    const assignments = Array.from({ length: s.assignments }, (_, i) => `req_${i}`);
    return {
      profile,
      supply: { presence: s.presence, heartbeatAt: 0, active: assignments.length, pendingPush: 0 },
      stats: { ...EMPTY_STATS, lastAssignedAt: s.lastAssignedAt },
      assignments,
      pushHolds: [],
    };
  });

const query: fc.Arbitrary<CandidateQuery> = fc.record({
  pool: fc.constantFrom("branch", "region", "national"),
  poolId: poolIds,
  licence: kinds,
  language: fc.option(languages, { nil: null }),
  minRisk: risks,
  limit: fc.constant(10),
});

describe("matchesCandidateQuery", () => {
  it("holds exactly when one of the query's Redis lists is one the advisor is filed in", () => {
    fc.assert(
      fc.property(state, query, (s, q) => {
        const entries = candidateEntries(keys, s);
        const filed = candidateQueryKeys(keys, q).some((key) => entries.has(key));
        expect(matchesCandidateQuery(s, q)).toBe(filed);
      }),
      { numRuns: 5_000, seed: 7 },
    );
  });
});

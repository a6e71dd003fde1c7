import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_DISPATCH_POLICY, type RankingWeights } from "../../matching/domain/policy.ts";
import {
  bayesianRating,
  EMPTY_STATS,
  rankCandidates,
  score,
  scoreParts,
  updateResponsiveness,
  type Candidate,
  type RankingContext,
  type ScoreParts,
} from "../../matching/domain/ranking.ts";
import type { AdvisorProfile, AdvisorStats, AdvisorSupply } from "../../matching/domain/types.ts";

const NOW = Date.parse("2026-03-01T12:00:00.000Z");
const MINUTE = 60_000;
const HOUR = 3_600_000;
const PRIOR = { mean: 4.5, weight: 20 };
const ZERO_WEIGHTS: RankingWeights = { rating: 0, responsiveness: 0, load: 0, fairness: 0, dedicated: 0, incentive: 0 };

function ctx(overrides: Partial<RankingContext> = {}): RankingContext {
  return {
    weights: DEFAULT_DISPATCH_POLICY.weights,
    ratingPrior: DEFAULT_DISPATCH_POLICY.ratingPrior,
    now: NOW,
    dedicatedAdvisorId: null,
    ...overrides,
  };
}

interface CandidateSpec {
  advisor?: Partial<AdvisorProfile>;
  supply?: Partial<AdvisorSupply>;
  stats?: Partial<AdvisorStats>;
}

/** A mid-range candidate: every component strictly between its extremes, so each can move both ways. */
function candidate(id: string, spec: CandidateSpec = {}): Candidate {
  return {
    advisor: {
      id,
      branchId: "br-1",
      region: "north",
      status: "active",
      maxConcurrent: 4,
      languages: ["en"],
      suitabilityMaxRisk: 5,
      licences: [],
      ...spec.advisor,
    },
    supply: { presence: "available", heartbeatAt: NOW, active: 1, pendingPush: 0, ...spec.supply },
    stats: {
      ratingSum: 45,
      ratingCount: 10,
      latencyEwmaMs: 10_000,
      acceptEwma: 0.8,
      lastAssignedAt: NOW - 30 * MINUTE,
      incentive: 0.3,
      ...spec.stats,
    },
  };
}

const ids = (ranked: ReadonlyArray<{ advisor: { id: string } }>) => ranked.map((c) => c.advisor.id);

describe("EMPTY_STATS", () => {
  it("is all zero / null and frozen", () => {
    expect(EMPTY_STATS).toEqual({
      ratingSum: 0,
      ratingCount: 0,
      latencyEwmaMs: null,
      acceptEwma: null,
      lastAssignedAt: 0,
      incentive: 0,
    });
    expect(Object.isFrozen(EMPTY_STATS)).toBe(true);
  });
});

describe("bayesianRating", () => {
  it("blends the reviews with the prior's virtual reviews", () => {
    // (4.5 * 20 + 30) / (20 + 10) = 120 / 30
    expect(bayesianRating({ ratingSum: 30, ratingCount: 10 }, PRIOR)).toBe(4);
  });

  it("returns the prior mean when there are no reviews", () => {
    expect(bayesianRating({ ratingSum: 0, ratingCount: 0 }, PRIOR)).toBe(4.5);
  });

  it("returns the prior mean when both prior weight and review count are zero", () => {
    expect(bayesianRating({ ratingSum: 0, ratingCount: 0 }, { mean: 3.7, weight: 0 })).toBe(3.7);
  });

  it("is the plain average with a zero-weight prior", () => {
    expect(bayesianRating({ ratingSum: 14, ratingCount: 4 }, { mean: 1, weight: 0 })).toBe(3.5);
  });

  it("ranks two hundred 4.8s above a single 5-star review with the default prior", () => {
    const single = { ratingSum: 5, ratingCount: 1 };
    const veteran = { ratingSum: 200 * 4.8, ratingCount: 200 };
    expect(bayesianRating(single, PRIOR)).toBeCloseTo(95 / 21, 12);
    expect(bayesianRating(veteran, PRIOR)).toBeCloseTo(1050 / 220, 12);
    expect(bayesianRating(veteran, PRIOR)).toBeGreaterThan(bayesianRating(single, PRIOR));
    // Without the prior the single review would win: the prior is what makes the difference.
    expect(bayesianRating(single, { mean: 4.5, weight: 0 })).toBeGreaterThan(bayesianRating(veteran, { mean: 4.5, weight: 0 }));

    // And end to end: the veteran is ranked first even though its id sorts last.
    const ranked = rankCandidates(
      [candidate("a-single", { stats: single }), candidate("z-veteran", { stats: veteran })],
      ctx({ weights: { ...ZERO_WEIGHTS, rating: 1 } }),
    );
    expect(ids(ranked)).toEqual(["z-veteran", "a-single"]);
  });
});

describe("scoreParts", () => {
  it("computes every component for a mid-range candidate", () => {
    const parts = scoreParts(candidate("a"), ctx());
    expect(parts.rating).toBeCloseTo(0.875, 12); // bayes 4.5 -> (4.5 - 1) / 4
    expect(parts.responsiveness).toBeCloseTo(0.65, 12); // 0.5 * 1/(1 + 1) + 0.5 * 0.8
    expect(parts.load).toBeCloseTo(0.75, 12); // 1 - 1/4
    expect(parts.fairness).toBeCloseTo(0.5, 12); // 30 min of 60
    expect(parts.dedicated).toBe(0);
    expect(parts.incentive).toBeCloseTo(0.3, 12);
  });

  it("maps ratings 1..5 onto 0..1", () => {
    const zeroPrior = ctx({ ratingPrior: { mean: 3, weight: 0 } });
    expect(scoreParts(candidate("a", { stats: { ratingSum: 10, ratingCount: 10 } }), zeroPrior).rating).toBe(0);
    expect(scoreParts(candidate("a", { stats: { ratingSum: 50, ratingCount: 10 } }), zeroPrior).rating).toBe(1);
    expect(scoreParts(candidate("a", { stats: { ratingSum: 0, ratingCount: 0 } }), zeroPrior).rating).toBe(0.5);
  });

  it("scores unknown latency and acceptance as neutral", () => {
    const none = scoreParts(candidate("a", { stats: { latencyEwmaMs: null, acceptEwma: null } }), ctx());
    expect(none.responsiveness).toBe(0.5);
    const acceptOnly = scoreParts(candidate("a", { stats: { latencyEwmaMs: null, acceptEwma: 1 } }), ctx());
    expect(acceptOnly.responsiveness).toBe(0.75);
    const latencyOnly = scoreParts(candidate("a", { stats: { latencyEwmaMs: 0, acceptEwma: null } }), ctx());
    expect(latencyOnly.responsiveness).toBe(0.75);
  });

  it("gives faster answers a higher latency score", () => {
    const fast = scoreParts(candidate("a", { stats: { latencyEwmaMs: 2_000, acceptEwma: 0 } }), ctx());
    const slow = scoreParts(candidate("a", { stats: { latencyEwmaMs: 30_000, acceptEwma: 0 } }), ctx());
    expect(fast.responsiveness).toBeCloseTo(0.5 / 1.2, 12);
    expect(slow.responsiveness).toBeCloseTo(0.5 / 4, 12);
  });

  it("computes load from assignments against capacity, clamped to 0..1", () => {
    const load = (active: number, maxConcurrent: number) => scoreParts(candidate("a", { supply: { active }, advisor: { maxConcurrent } }), ctx()).load;
    expect(load(0, 4)).toBe(1);
    expect(load(3, 4)).toBe(0.25);
    expect(load(4, 4)).toBe(0);
    expect(load(6, 4)).toBe(0);
    expect(load(0, 0)).toBe(0);
  });

  it("ignores pending push offers in load", () => {
    const parts = scoreParts(candidate("a", { supply: { active: 1, pendingPush: 2 } }), ctx());
    expect(parts.load).toBe(0.75);
  });

  it("computes fairness from time since the last assignment, full after an hour", () => {
    const fairness = (lastAssignedAt: number) => scoreParts(candidate("a", { stats: { lastAssignedAt } }), ctx()).fairness;
    expect(fairness(0)).toBe(1);
    expect(fairness(NOW)).toBe(0);
    expect(fairness(NOW - 15 * MINUTE)).toBe(0.25);
    expect(fairness(NOW - HOUR)).toBe(1);
    expect(fairness(NOW - 5 * HOUR)).toBe(1);
    expect(fairness(NOW + MINUTE)).toBe(0);
  });

  it("marks only the client's dedicated advisor", () => {
    expect(scoreParts(candidate("a"), ctx({ dedicatedAdvisorId: "a" })).dedicated).toBe(1);
    expect(scoreParts(candidate("a"), ctx({ dedicatedAdvisorId: "b" })).dedicated).toBe(0);
    expect(scoreParts(candidate("a"), ctx({ dedicatedAdvisorId: null })).dedicated).toBe(0);
  });

  it("clamps the incentive to 0..1", () => {
    const incentive = (value: number) => scoreParts(candidate("a", { stats: { incentive: value } }), ctx()).incentive;
    expect(incentive(-0.4)).toBe(0);
    expect(incentive(0.6)).toBe(0.6);
    expect(incentive(1.7)).toBe(1);
  });
});

describe("score", () => {
  it("multiplies each part by its own weight", () => {
    const parts: ScoreParts = { rating: 0.5, responsiveness: 0.25, load: 0.125, fairness: 1, dedicated: 1, incentive: 0.75 };
    const weights: RankingWeights = { rating: 1, responsiveness: 2, load: 4, fairness: 8, dedicated: 16, incentive: 32 };
    expect(score(parts, weights)).toBe(0.5 + 0.5 + 0.5 + 8 + 16 + 24);
  });

  it("is zero with all-zero weights", () => {
    expect(score(scoreParts(candidate("a"), ctx()), ZERO_WEIGHTS)).toBe(0);
  });

  it("rounds away float noise so equal scores compare equal", () => {
    const parts: ScoreParts = { rating: 0.1, responsiveness: 0.2, load: 0, fairness: 0, dedicated: 0, incentive: 0 };
    expect(0.1 + 0.2).not.toBe(0.3); // the noise this guards against
    expect(score(parts, { ...ZERO_WEIGHTS, rating: 1, responsiveness: 1 })).toBe(0.3);
  });

  it("keeps nine decimals", () => {
    const parts: ScoreParts = { rating: 0.123456789, responsiveness: 0, load: 0, fairness: 0, dedicated: 0, incentive: 0 };
    expect(score(parts, { ...ZERO_WEIGHTS, rating: 1 })).toBe(0.123456789);
    expect(score({ ...parts, rating: 0.1234567894 }, { ...ZERO_WEIGHTS, rating: 1 })).toBe(0.123456789);
  });
});

describe("rankCandidates: each component moves the order", () => {
  // "a" and "b" are identical except that "b" is better on one component. If that component (or
  // its weight) were ignored they would tie and "a" would win on id, so "b" first proves it counts;
  // zeroing that one weight must bring "a" back to the front.
  const cases: Array<[keyof RankingWeights, CandidateSpec, Partial<RankingContext>]> = [
    ["rating", { stats: { ratingSum: 50, ratingCount: 10 } }, {}],
    ["responsiveness", { stats: { acceptEwma: 0.95 } }, {}],
    ["responsiveness", { stats: { latencyEwmaMs: 3_000 } }, {}],
    ["load", { supply: { active: 0 } }, {}],
    ["fairness", { stats: { lastAssignedAt: NOW - 50 * MINUTE } }, {}],
    ["dedicated", {}, { dedicatedAdvisorId: "b" }],
    ["incentive", { stats: { incentive: 0.9 } }, {}],
  ];

  it.each(cases)("%s: better candidate first, and not once its weight is zero", (component, better, context) => {
    const candidates = [candidate("a"), candidate("b", better)];
    expect(ids(rankCandidates(candidates, ctx(context)))).toEqual(["b", "a"]);

    const withoutComponent = ctx({ ...context, weights: { ...DEFAULT_DISPATCH_POLICY.weights, [component]: 0 } });
    expect(ids(rankCandidates(candidates, withoutComponent))).toEqual(["a", "b"]);
  });

  it("lets the weights trade one component against another", () => {
    // "a" is better rated (rating part 0.975 vs 0.875), "b" has waited longer for work (fairness
    // 0.6 vs 0.5): equal gaps, so the weights alone decide.
    const candidates = [candidate("a", { stats: { ratingSum: 49, ratingCount: 10 } }), candidate("b", { stats: { lastAssignedAt: NOW - 36 * MINUTE } })];
    const ratingPrior = { mean: 4.5, weight: 0 };
    const favourRating = ctx({ ratingPrior, weights: { ...ZERO_WEIGHTS, rating: 3, fairness: 1 } });
    const favourFairness = ctx({ ratingPrior, weights: { ...ZERO_WEIGHTS, rating: 1, fairness: 3 } });
    expect(ids(rankCandidates(candidates, favourRating))).toEqual(["a", "b"]);
    expect(ids(rankCandidates(candidates, favourFairness))).toEqual(["b", "a"]);
  });

  it("puts the dedicated advisor first under the default weights despite weaker stats", () => {
    const candidates = [candidate("star", { stats: { ratingSum: 48, ratingCount: 10, acceptEwma: 0.9 } }), candidate("mine", { supply: { active: 2 } })];
    expect(ids(rankCandidates(candidates, ctx({ dedicatedAdvisorId: "mine" })))[0]).toBe("mine");
  });
});

describe("rankCandidates: determinism", () => {
  it("breaks ties by advisor id ascending whatever the input order", () => {
    const sorted = ["adv-01", "adv-02", "adv-10", "adv-2", "b", "B"].sort();
    const permutations = [["b", "adv-10", "adv-01", "B", "adv-2", "adv-02"], ["B", "b", "adv-2", "adv-10", "adv-02", "adv-01"], [...sorted].reverse(), sorted];
    for (const order of permutations) {
      const ranked = rankCandidates(
        order.map((id) => candidate(id)),
        ctx(),
      );
      expect(ids(ranked)).toEqual(["B", "adv-01", "adv-02", "adv-10", "adv-2", "b"]);
    }
  });

  it("ranks by score first and only uses the id to break ties", () => {
    const ranked = rankCandidates([candidate("c"), candidate("a"), candidate("z", { stats: { incentive: 1 } }), candidate("b")], ctx());
    expect(ids(ranked)).toEqual(["z", "a", "b", "c"]);
    expect(ranked[0]!.score).toBeGreaterThan(ranked[1]!.score);
    expect(ranked[1]!.score).toBe(ranked[3]!.score);
  });

  it("attaches the parts and score it ranked by", () => {
    const c = candidate("a");
    const [ranked] = rankCandidates([c], ctx());
    expect(ranked!.parts).toEqual(scoreParts(c, ctx()));
    expect(ranked!.score).toBe(score(scoreParts(c, ctx()), ctx().weights));
    expect(ranked!.score).toBe(6.875); // 3*0.875 + 3*0.65 + 2*0.75 + 1*0.5 + 5*0 + 1*0.3
    expect(ranked!.advisor).toBe(c.advisor);
    expect(ranked!.supply).toBe(c.supply);
    expect(ranked!.stats).toBe(c.stats);
  });

  it("does not mutate its input", () => {
    const input = Object.freeze([candidate("c"), candidate("a", { stats: { incentive: 1 } }), candidate("b")]);
    const before = structuredClone(input);
    const ranked = rankCandidates(input, ctx());
    expect(input).toEqual(before);
    expect(ids(input)).toEqual(["c", "a", "b"]);
    expect(ranked).not.toBe(input);
    expect(input[0]).not.toHaveProperty("score");
  });

  it("returns an empty list for no candidates", () => {
    expect(rankCandidates([], ctx())).toEqual([]);
  });
});

describe("rankCandidates: properties", () => {
  // Small value domains so ties are common and the tie-break is actually exercised.
  const statsArb = fc.record({
    ratingCount: fc.integer({ min: 0, max: 3 }),
    ratingStars: fc.constantFrom(1, 3, 4.5, 5),
    latencyEwmaMs: fc.option(fc.constantFrom(0, 5_000, 10_000, 60_000), { nil: null }),
    acceptEwma: fc.option(fc.constantFrom(0, 0.1, 0.2, 0.5, 1), { nil: null }),
    lastAssignedAgoMs: fc.option(fc.constantFrom(0, 6 * MINUTE, 30 * MINUTE, 2 * HOUR), { nil: null }),
    incentive: fc.constantFrom(-1, 0, 0.1, 0.7, 2),
  });
  const candidateArb = fc
    .record({
      id: fc.string({ minLength: 1, maxLength: 3 }),
      maxConcurrent: fc.integer({ min: 0, max: 3 }),
      active: fc.integer({ min: 0, max: 4 }),
      stats: statsArb,
    })
    .map(({ id, maxConcurrent, active, stats }) =>
      candidate(id, {
        advisor: { maxConcurrent },
        supply: { active },
        stats: {
          ratingCount: stats.ratingCount,
          ratingSum: stats.ratingCount * stats.ratingStars,
          latencyEwmaMs: stats.latencyEwmaMs,
          acceptEwma: stats.acceptEwma,
          lastAssignedAt: stats.lastAssignedAgoMs === null ? 0 : NOW - stats.lastAssignedAgoMs,
          incentive: stats.incentive,
        },
      }),
    );
  const candidatesArb = fc.uniqueArray(candidateArb, { selector: (c) => c.advisor.id, maxLength: 12 });
  const weightArb = fc.integer({ min: 0, max: 5 });
  const contextArb = fc.record({
    weights: fc.record({
      rating: weightArb,
      responsiveness: weightArb,
      load: weightArb,
      fairness: weightArb,
      dedicated: weightArb,
      incentive: weightArb,
    }),
    ratingPrior: fc.record({ mean: fc.constantFrom(1, 4.5, 5), weight: fc.constantFrom(0, 1, 20) }),
    now: fc.constant(NOW),
    dedicatedAdvisorId: fc.option(fc.string({ minLength: 1, maxLength: 3 }), { nil: null }),
  });

  it("returns a permutation of its input sorted by (score desc, id asc)", () => {
    fc.assert(
      fc.property(candidatesArb, contextArb, (candidates, context) => {
        const ranked = rankCandidates(candidates, context);
        expect(ranked).toHaveLength(candidates.length);
        expect(new Set(ranked.map((r) => r.advisor))).toEqual(new Set(candidates.map((c) => c.advisor)));
        for (const r of ranked) expect(r.score).toBe(score(scoreParts(r, context), context.weights));
        for (let i = 1; i < ranked.length; i++) {
          const prev = ranked[i - 1]!;
          const next = ranked[i]!;
          const ordered = prev.score > next.score || (prev.score === next.score && prev.advisor.id < next.advisor.id);
          expect(ordered, `${prev.advisor.id}:${prev.score} before ${next.advisor.id}:${next.score}`).toBe(true);
        }
      }),
    );
  });

  it("gives the same order for any permutation of the input", () => {
    const arb = fc
      .tuple(candidatesArb, contextArb)
      .chain(([candidates, context]) =>
        fc.tuple(
          fc.constant(candidates),
          fc.shuffledSubarray(candidates, { minLength: candidates.length, maxLength: candidates.length }),
          fc.constant(context),
        ),
      );
    fc.assert(
      fc.property(arb, ([candidates, shuffled, context]) => {
        expect(ids(rankCandidates(shuffled, context))).toEqual(ids(rankCandidates(candidates, context)));
      }),
    );
  });

  it("keeps every part within 0..1", () => {
    fc.assert(
      fc.property(candidateArb, contextArb, (c, context) => {
        for (const value of Object.values(scoreParts(c, context))) {
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThanOrEqual(1);
        }
      }),
    );
  });
});

describe("updateResponsiveness", () => {
  it("sets both EWMAs directly on the first accept", () => {
    expect(updateResponsiveness(EMPTY_STATS, { accepted: true, latencyMs: 1_200 })).toEqual({
      ...EMPTY_STATS,
      acceptEwma: 1,
      latencyEwmaMs: 1_200,
    });
  });

  it("sets acceptance directly to 0 on a first decline and learns no latency", () => {
    expect(updateResponsiveness(EMPTY_STATS, { accepted: false })).toEqual({ ...EMPTY_STATS, acceptEwma: 0, latencyEwmaMs: null });
  });

  it("moves both EWMAs by alpha toward an accept", () => {
    const stats = { ...EMPTY_STATS, acceptEwma: 0.5, latencyEwmaMs: 1_000 };
    const next = updateResponsiveness(stats, { accepted: true, latencyMs: 2_000 });
    expect(next.acceptEwma).toBeCloseTo(0.6, 12); // 0.5 + 0.2 * (1 - 0.5)
    expect(next.latencyEwmaMs).toBeCloseTo(1_200, 9); // 1000 + 0.2 * (2000 - 1000)
  });

  it("moves acceptance toward 0 on a decline and leaves latency alone", () => {
    const stats = { ...EMPTY_STATS, acceptEwma: 0.5, latencyEwmaMs: 1_000 };
    const next = updateResponsiveness(stats, { accepted: false });
    expect(next.acceptEwma).toBeCloseTo(0.4, 12);
    expect(next.latencyEwmaMs).toBe(1_000);
  });

  it("sets latency directly on the first accept even after earlier declines", () => {
    let stats = updateResponsiveness(EMPTY_STATS, { accepted: false }); // accept 0
    stats = updateResponsiveness(stats, { accepted: true, latencyMs: 1_000 }); // accept 0.2, latency 1000
    expect(stats.acceptEwma).toBeCloseTo(0.2, 12);
    expect(stats.latencyEwmaMs).toBe(1_000);
    stats = updateResponsiveness(stats, { accepted: true, latencyMs: 3_000 }); // accept 0.36, latency 1400
    expect(stats.acceptEwma).toBeCloseTo(0.36, 12);
    expect(stats.latencyEwmaMs).toBeCloseTo(1_400, 9);
  });

  it("uses the alpha it is given", () => {
    const stats = { ...EMPTY_STATS, acceptEwma: 0.5, latencyEwmaMs: 1_000 };
    const next = updateResponsiveness(stats, { accepted: true, latencyMs: 3_000 }, 0.5);
    expect(next.acceptEwma).toBe(0.75);
    expect(next.latencyEwmaMs).toBe(2_000);
    expect(updateResponsiveness(stats, { accepted: false }, 1).acceptEwma).toBe(0);
  });

  it.each([0, -0.1, 1.5, Number.NaN])("rejects alpha %s", (alpha) => {
    expect(() => updateResponsiveness(EMPTY_STATS, { accepted: false }, alpha)).toThrow(RangeError);
  });

  it("treats a negative latency (clock skew) as instant", () => {
    expect(updateResponsiveness(EMPTY_STATS, { accepted: true, latencyMs: -300 }).latencyEwmaMs).toBe(0);
  });

  it("returns a new object, keeps the other fields and does not mutate its input", () => {
    const stats: AdvisorStats = { ratingSum: 90, ratingCount: 20, latencyEwmaMs: 500, acceptEwma: 0.9, lastAssignedAt: NOW, incentive: 0.4 };
    const before = { ...stats };
    const next = updateResponsiveness(stats, { accepted: false });
    expect(next).not.toBe(stats);
    expect(stats).toEqual(before);
    expect(next).toMatchObject({ ratingSum: 90, ratingCount: 20, lastAssignedAt: NOW, incentive: 0.4 });
  });

  it("converges toward the observed rate", () => {
    let stats: AdvisorStats = EMPTY_STATS;
    for (let i = 0; i < 60; i++) stats = updateResponsiveness(stats, { accepted: true, latencyMs: 4_000 });
    expect(stats.acceptEwma).toBe(1);
    expect(stats.latencyEwmaMs).toBeCloseTo(4_000, 6);
  });
});

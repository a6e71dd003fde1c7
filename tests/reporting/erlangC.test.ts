/**
 * Erlang C (reporting/erlangC.ts) against two published worked examples, to 3 decimals, and against
 * a second, naive formula (the textbook sum of A^k / k!, fine for small N) computed here; then its
 * properties: service level rises with agents, the unstable edge N ≤ A is a value (SL 0, C 1, an
 * infinite wait), never NaN, and large traffic stays exact where the naive sum overflows.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { agentsNeeded, averageSpeedOfAnswer, erlangB, probabilityOfWaiting, serviceLevel, traffic } from "../../reporting/erlangC.ts";

/** n! as a double: Infinity past 170. */
const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** The textbook Erlang C, literally: (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A)). */
function naiveC(n: number, a: number): number {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += a ** k / factorial(k);
  const top = (a ** n / factorial(n)) * (n / (n - a));
  return top / (sum + top);
}
const naiveSL = (n: number, a: number, aht: number, t: number) => 1 - naiveC(n, a) * Math.exp((-(n - a) * t) / aht);

describe("Erlang C: published worked examples", () => {
  /*
   * Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
   * (https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in 30 minutes,
   * average handle time 180 s, target 80% answered within 20 s. Traffic = 100 / 1800 s × 180 s = 10
   * erlangs. With 11 agents the probability of waiting is 0.6821 and the service level 39.0%; the
   * worked example raises the agents until the target is met, at 14 agents with 88.8%.
   */
  it("Call Centre Helper: 10 erlangs, AHT 180 s, 80% in 20 s", () => {
    const a = traffic(100 / 1_800, 180);
    expect(a).toBeCloseTo(10, 12);
    expect(probabilityOfWaiting(11, a)).toBeCloseTo(0.6821, 4);
    expect(serviceLevel(11, a, 180, 20)).toBeCloseTo(0.39, 2);
    expect(serviceLevel(13, a, 180, 20)).toBeLessThan(0.8);
    expect(serviceLevel(14, a, 180, 20)).toBeCloseTo(0.888, 3);
    expect(agentsNeeded(a, 180, { share: 0.8, withinSeconds: 20 })).toBe(14);
    // The same figures by the naive formula, to 3 decimals.
    for (const n of [11, 12, 13, 14, 15]) {
      expect(probabilityOfWaiting(n, a)).toBeCloseTo(naiveC(n, a), 3);
      expect(serviceLevel(n, a, 180, 20)).toBeCloseTo(naiveSL(n, a, 180, 20), 3);
    }
  });

  /*
   * Westbay Engineers, "The Erlang-C Formula" (https://www.erlang.com/calculator/erlc/ and its
   * formula page): 360 calls per half hour, average duration 4 minutes, 55 agents, target answer
   * time 15 s. Traffic 48 erlangs, occupancy 87.3%, probability of waiting 0.2387 (23.9%), average
   * speed of answer 8.2 s, service level 84.6%.
   */
  it("Westbay Engineers: 48 erlangs, 55 agents, 15 s", () => {
    const a = traffic(360 / 1_800, 240);
    expect(a).toBeCloseTo(48, 12);
    expect(a / 55).toBeCloseTo(0.873, 3);
    expect(probabilityOfWaiting(55, a)).toBeCloseTo(0.2387, 4);
    expect(averageSpeedOfAnswer(55, a, 240)).toBeCloseTo(8.18, 2);
    expect(serviceLevel(55, a, 240, 15)).toBeCloseTo(0.846, 3);
    expect(probabilityOfWaiting(55, a)).toBeCloseTo(naiveC(55, a), 10);
  });

  it("Erlang B by the recursion equals the textbook ratio (A^N/N!) / Σ A^k/k!", () => {
    // 2 agents, 1 erlang: (1/2) / (1 + 1 + 1/2) = 0.2.
    expect(erlangB(2, 1)).toBeCloseTo(0.2, 12);
    expect(erlangB(0, 5)).toBe(1);
  });
});

describe("Erlang C: properties", () => {
  const stable = fc
    .record({
      a: fc.double({ min: 0.01, max: 150, noNaN: true }),
      extra: fc.integer({ min: 0, max: 40 }),
      aht: fc.integer({ min: 10, max: 3_600 }),
      t: fc.integer({ min: 1, max: 600 }),
    })
    .map(({ a, extra, aht, t }) => ({ a, n: Math.floor(a) + 1 + extra, aht, t }));

  it("service level rises with every added agent, and stays in [0, 1]", () => {
    fc.assert(
      fc.property(stable, ({ a, n, aht, t }) => {
        const here = serviceLevel(n, a, aht, t);
        const next = serviceLevel(n + 1, a, aht, t);
        expect(here).toBeGreaterThanOrEqual(0);
        expect(next).toBeLessThanOrEqual(1);
        // Strictly, until it rounds to 1 in a double.
        if (here < 1 - 1e-9) expect(next).toBeGreaterThan(here);
        else expect(next).toBeGreaterThanOrEqual(here);
        expect(averageSpeedOfAnswer(n + 1, a, aht)).toBeLessThanOrEqual(averageSpeedOfAnswer(n, a, aht));
      }),
    );
  });

  it("the recursion agrees with the naive formula wherever its powers and factorials are finite", () => {
    fc.assert(
      fc.property(stable, ({ a, n }) => {
        fc.pre(n <= 140 && a <= 100);
        expect(probabilityOfWaiting(n, a)).toBeCloseTo(naiveC(n, a), 9);
      }),
    );
  });

  it("agentsNeeded is the smallest N meeting the target", () => {
    fc.assert(
      fc.property(stable, fc.integer({ min: 1, max: 99 }), ({ a, aht, t }, percent) => {
        const target = { share: percent / 100, withinSeconds: t };
        const n = agentsNeeded(a, aht, target);
        expect(n).toBeGreaterThan(a);
        expect(serviceLevel(n, a, aht, t)).toBeGreaterThanOrEqual(target.share);
        if (n - 1 > a) expect(serviceLevel(n - 1, a, aht, t)).toBeLessThan(target.share);
      }),
    );
  });

  it("N ≤ A is unstable: everyone waits, nobody within the target, an infinite wait, no NaN", () => {
    for (const [n, a] of [
      [10, 10],
      [0, 0.5],
      [9, 12.5],
    ] as const) {
      expect(probabilityOfWaiting(n, a)).toBe(1);
      expect(serviceLevel(n, a, 180, 20)).toBe(0);
      expect(averageSpeedOfAnswer(n, a, 180)).toBe(Number.POSITIVE_INFINITY);
    }
    // Just stable: N = ⌈A⌉ when A is not whole.
    expect(serviceLevel(10, 9.5, 180, 20)).toBeGreaterThan(0);
    expect(Number.isFinite(averageSpeedOfAnswer(10, 9.5, 180))).toBe(true);
  });

  it("no traffic needs no agents and waits for nothing", () => {
    expect(agentsNeeded(0, 180, { share: 0.8, withinSeconds: 20 })).toBe(0);
    expect(serviceLevel(0, 0, 180, 20)).toBe(1);
    expect(probabilityOfWaiting(3, 0)).toBe(0);
    expect(averageSpeedOfAnswer(0, 0, 180)).toBe(0);
  });

  it("large traffic stays exact where the factorial sum overflows", () => {
    const a = 300;
    const n = agentsNeeded(a, 300, { share: 0.8, withinSeconds: 20 });
    expect(Number.isNaN(naiveC(n, a))).toBe(true); // Infinity / Infinity
    const c = probabilityOfWaiting(n, a);
    expect(c).toBeGreaterThan(0);
    expect(c).toBeLessThan(1);
    expect(serviceLevel(n, a, 300, 20)).toBeGreaterThanOrEqual(0.8);
  });

  it("refuses nonsense inputs as faults", () => {
    expect(() => probabilityOfWaiting(-1, 2)).toThrow(RangeError);
    expect(() => probabilityOfWaiting(2.5, 2)).toThrow(RangeError);
    expect(() => probabilityOfWaiting(2, Number.NaN)).toThrow(RangeError);
    expect(() => agentsNeeded(2, 180, { share: 1, withinSeconds: 20 })).toThrow(RangeError);
  });
});

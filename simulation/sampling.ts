/**
 * Draws from the scenario's distributions with a seeded PRNG (core/random.ts), never Math.random,
 * so a scenario and a seed give the same day every time.
 */
import { seededRandom } from "../core/random.ts";
import type { Duration } from "./scenario.ts";

export interface Sampler {
  /** Uniform in [0, 1). */
  next(): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Milliseconds drawn from a duration, whole. */
  durationMs(d: Duration): number;
  /** Exponential gap (ms) for a Poisson process of `perHour` arrivals an hour. */
  gapMs(perHour: number): number;
  /** One value of a weighted mix. */
  pick<T>(mix: ReadonlyArray<{ value: T; weight: number }>): T;
  /** An integer in [0, n). */
  index(n: number): number;
}

export function createSampler(seed: number): Sampler {
  const random = seededRandom(seed);
  // Never exactly 0, so log() stays finite.
  const open = () => random() || Number.MIN_VALUE;
  const normal = () => Math.sqrt(-2 * Math.log(open())) * Math.cos(2 * Math.PI * random());
  return {
    next: random,
    chance: (p) => random() < p,
    durationMs(d) {
      if (d.kind === "fixed") return Math.round(d.seconds * 1000);
      return Math.round(d.medianSeconds * Math.exp(d.sigma * normal()) * 1000);
    },
    gapMs: (perHour) => (-Math.log(open()) / perHour) * 3_600_000,
    pick(mix) {
      const total = mix.reduce((sum, m) => sum + m.weight, 0);
      let r = random() * total;
      for (const m of mix) {
        r -= m.weight;
        if (r < 0) return m.value;
      }
      return mix[mix.length - 1]!.value;
    },
    index: (n) => Math.min(n - 1, Math.floor(random() * n)),
  };
}

/** A seed for one purpose of a run (arrivals, behaviour, ids), so changing one does not shift the others. */
export function deriveSeed(seed: number, purpose: string): number {
  let h = seed | 0;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

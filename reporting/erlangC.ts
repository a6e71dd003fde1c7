/**
 * Erlang C: the M/M/N queue (Poisson arrivals, exponential handle times, N interchangeable agents,
 * first come first served, nobody gives up), the textbook model for how many agents a queue needs.
 * Pure: no I/O.
 *
 * - `traffic` A, in erlangs: arrival rate × mean handle time (λ · AHT), the agents busy on average.
 * - `probabilityOfWaiting` C(N, A) = P(wait > 0), the chance a request finds every agent busy.
 * - `serviceLevel` SL(t) = 1 − C(N, A) · e^(−(N − A) · t / AHT), the share answered within t.
 * - `averageSpeedOfAnswer` ASA = C(N, A) · AHT / (N − A), the mean wait over all requests.
 * - `agentsNeeded`: the smallest N whose SL(t) reaches the target.
 *
 * C is computed from the Erlang B recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)), then
 * C = N·B / (N − A·(1 − B)): no powers or factorials, so A = 300 erlangs is as exact as A = 3 (the
 * textbook sum of A^k / k! overflows a double past k = 170).
 *
 * With N ≤ A the queue is unstable (work arrives faster than N agents finish it, so the queue grows
 * without bound): every request waits (C = 1), none is answered within any t (SL = 0) and the mean
 * wait is infinite (ASA = Infinity). These are values, not NaN: the caller can compare them.
 *
 * Checked against published worked examples in tests/reporting/erlangC.test.ts.
 */

/** Offered traffic in erlangs: `arrivalsPerSecond` × `handleSeconds`. */
export const traffic = (arrivalsPerSecond: number, handleSeconds: number): number => arrivalsPerSecond * handleSeconds;

function checkInputs(agents: number, erlangs: number): void {
  if (!Number.isInteger(agents) || agents < 0) throw new RangeError(`agents must be a whole number >= 0, not ${agents}`);
  if (!Number.isFinite(erlangs) || erlangs < 0) throw new RangeError(`traffic must be a finite number of erlangs >= 0, not ${erlangs}`);
}

/** Erlang B: the share of requests a loss system of N agents would turn away, by the recursion. */
export function erlangB(agents: number, erlangs: number): number {
  checkInputs(agents, erlangs);
  let b = 1;
  for (let k = 1; k <= agents; k++) b = (erlangs * b) / (k + erlangs * b);
  return b;
}

/** C(N, A) = P(wait > 0); 1 when N ≤ A (unstable: everyone waits), 0 when A = 0 and N ≥ 1. */
export function probabilityOfWaiting(agents: number, erlangs: number): number {
  checkInputs(agents, erlangs);
  if (agents <= erlangs) return erlangs === 0 && agents === 0 ? 0 : 1;
  const b = erlangB(agents, erlangs);
  return (agents * b) / (agents - erlangs * (1 - b));
}

/**
 * The share of requests answered within `targetSeconds`: 1 − C · e^(−(N − A) · t / AHT). 0 when the
 * queue is unstable (N ≤ A, with traffic); 1 with no traffic at all.
 */
export function serviceLevel(agents: number, erlangs: number, handleSeconds: number, targetSeconds: number): number {
  checkInputs(agents, erlangs);
  if (erlangs === 0) return 1;
  if (agents <= erlangs) return 0;
  if (!(handleSeconds > 0)) throw new RangeError(`handleSeconds must be > 0, not ${handleSeconds}`);
  return 1 - probabilityOfWaiting(agents, erlangs) * Math.exp((-(agents - erlangs) * targetSeconds) / handleSeconds);
}

/** The mean wait over all requests, in seconds: C · AHT / (N − A); Infinity when N ≤ A with traffic. */
export function averageSpeedOfAnswer(agents: number, erlangs: number, handleSeconds: number): number {
  checkInputs(agents, erlangs);
  if (erlangs === 0) return 0;
  if (agents <= erlangs) return Number.POSITIVE_INFINITY;
  return (probabilityOfWaiting(agents, erlangs) * handleSeconds) / (agents - erlangs);
}

/**
 * The smallest N with serviceLevel(N) ≥ `targetShare` (0 < targetShare < 1): 0 with no traffic,
 * otherwise at least ⌊A⌋ + 1, the fewest agents that keep the queue stable. SL rises with N towards
 * 1, so the search ends; it starts at the stable minimum and counts up (a few dozen steps past A
 * for any target a branch sets).
 */
export function agentsNeeded(erlangs: number, handleSeconds: number, target: { share: number; withinSeconds: number }): number {
  checkInputs(0, erlangs);
  if (!(target.share > 0 && target.share < 1)) throw new RangeError(`the target share must be in (0, 1), not ${target.share}`);
  if (erlangs === 0) return 0;
  let agents = Math.floor(erlangs) + 1;
  while (serviceLevel(agents, erlangs, handleSeconds, target.withinSeconds) < target.share) agents++;
  return agents;
}

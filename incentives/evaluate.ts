/**
 * The incentive evaluator as a deterministic fold over engine events:
 *
 *   (state, event, ruleSet, ctx) → (state', decisions)
 *
 * Live evaluation and simulation run this same function, so a draft rule set simulated over last
 * week's events decides exactly what it would have decided live. Pure: no I/O, no clock (local time
 * comes from the event's `at` in the branch's timezone), no randomness; the state is plain JSON.
 *
 * Per event:
 * 1. offer.accepted increments the advisor's accept streak; offer.declined and offer.timed_out reset
 *    it. Other events leave the state alone and earn nothing unless they are earning types.
 * 2. Every points rule with the event's type whose conditions hold gives a base award; every
 *    multiplier rule with the same type whose conditions hold multiplies each base award (multipliers
 *    compose by product; the result is rounded half up; an award that rounds to 0 is dropped).
 * 3. Per points rule, in rule order: caps (per advisor per local day, then per ISO week) — a capped
 *    award is skipped and does not count; then the budget — each award is posted if it still fits
 *    (`budgetRemaining - postedInThisEvent >= points`), otherwise skipped as budget_exhausted. A later,
 *    smaller award may still fit after a larger one did not.
 */
import { utcMs, wallClock } from "../core/wallClock.ts";
import type { LicenceKind } from "../matching/domain/types.ts";
import type { DomainEvent } from "../matching/events.ts";
import { EARNING_EVENT_TYPES, type Conditions, type EarningEventType, type HourRange, type Rule, type RuleSet } from "./rules/schema.ts";

/** A domain event as evaluated: demand facts may be attached by whoever feeds the evaluator. */
/**
 * The event types the fold reads (those that earn, and those that break streaks or count as
 * answers). Live evaluation and simulation select their events with this one list, so a
 * simulation replays exactly what live evaluation folded.
 */
export const FOLDED_EVENT_TYPES = ["offer.accepted", "offer.declined", "offer.timed_out", "request.completed", "request.rated"] as const;

export type EvaluableEvent = DomainEvent & {
  /** Waiting requests of the request's licence kind when the event happened; absent counts as 0. */
  queueDepth?: number;
  requiredLicence?: LicenceKind;
  surge?: boolean;
};

export type SkipReason = "cap_per_day" | "cap_per_week" | "budget_exhausted";

export interface AwardDecision {
  /** The event that earned it: with ruleId, the idempotency key of a ledger posting. */
  eventId: string;
  ruleId: string;
  ruleSetVersion: number;
  advisorId: string;
  /** Final points (multipliers applied, rounded); for skipped awards, what it would have been. */
  points: number;
  status: "posted" | "skipped";
  /** Set on skipped decisions only. */
  reason?: SkipReason;
}

/** Awards granted (posted) for one rule and advisor, by local day ("2026-06-10") and ISO week ("2026-W24"). */
export interface AwardCounts {
  days: Record<string, number>;
  weeks: Record<string, number>;
}

/** Everything the fold carries between events. Plain JSON: store it, ship it, compare it. */
export interface IncentiveState {
  /** advisorId → current run of consecutive accepts (absent = 0). */
  streaks: Record<string, number>;
  /** ruleId → advisorId → posted award counts. Only the most recent days and weeks are kept. */
  awards: Record<string, Record<string, AwardCounts>>;
  /** Points posted in `period` (an ISO week in the branch timezone; null before the first award). */
  budget: { period: string | null; used: number };
}

export interface EvaluateContext {
  /** The branch's IANA timezone, e.g. "Europe/London": local hour, weekday, day and week come from it. */
  timezone: string;
  ruleSetVersion: number;
  /** Points still available in the branch's budget for the event's period. */
  budgetRemaining: number;
}

export interface EvaluationResult {
  state: IncentiveState;
  decisions: AwardDecision[];
}

/** Day and week keys kept per (rule, advisor): enough for late events, bounded over months. */
const KEEP_DAYS = 8;
const KEEP_WEEKS = 3;

export function initialState(): IncentiveState {
  return { streaks: {}, awards: {}, budget: { period: null, used: 0 } };
}

/**
 * Folds one event into the state and decides its awards. Never mutates its arguments. Throws a
 * RangeError for an unknown timezone.
 */
export function evaluate(state: IncentiveState, event: EvaluableEvent, ruleSet: RuleSet, ctx: EvaluateContext): EvaluationResult {
  if (event.type === "offer.declined" || event.type === "offer.timed_out") {
    if (own(state.streaks, event.advisorId) === undefined) return { state, decisions: [] };
    return { state: { ...state, streaks: without(state.streaks, event.advisorId) }, decisions: [] };
  }
  if (!isEarningEvent(event)) return { state, decisions: [] };

  const advisorId = event.advisorId;
  let streaks = state.streaks;
  let streak = own(streaks, advisorId) ?? 0;
  if (event.type === "offer.accepted") {
    streak += 1;
    streaks = { ...streaks, [advisorId]: streak };
  }

  const rules = ruleSet.rules.filter((rule) => rule.on === event.type);
  if (rules.length === 0) return { state: streaks === state.streaks ? state : { ...state, streaks }, decisions: [] };

  const local = localTime(event.at, ctx.timezone);
  const matching = rules.filter((rule) => conditionsHold(rule.when, event, streak, local));
  const multiplier = matching.reduce((product, rule) => ("multiplier" in rule.award ? product * rule.award.multiplier : product), 1);

  let awards = state.awards;
  let posted = 0;
  const decisions: AwardDecision[] = [];
  for (const rule of matching) {
    if (!("points" in rule.award)) continue;
    const points = roundHalfUp(rule.award.points * multiplier);
    if (points <= 0) continue;
    const base = { eventId: event.id, ruleId: rule.id, ruleSetVersion: ctx.ruleSetVersion, advisorId, points };

    const counts = own(own(awards, rule.id) ?? {}, advisorId);
    const reason = capReason(rule, counts, local);
    if (reason) {
      decisions.push({ ...base, status: "skipped", reason });
      continue;
    }
    if (ctx.budgetRemaining - posted >= points) {
      posted += points;
      awards = countAward(awards, rule.id, advisorId, local);
      decisions.push({ ...base, status: "posted" });
    } else {
      decisions.push({ ...base, status: "skipped", reason: "budget_exhausted" });
    }
  }

  return { state: { streaks, awards, budget: nextBudget(state.budget, local.week, posted) }, decisions };
}

export interface SimulationContext {
  timezone: string;
  ruleSetVersion: number;
  /** Budget per period; defaults to the rule set's own `budget.points`. */
  budgetPerPeriod?: number;
}

export interface SimulationResult {
  totals: { posted: number; skipped: number; points: number };
  /** advisorId → posted points, for every advisor with at least one decision (0 if all were skipped). */
  perAdvisor: Record<string, number>;
  /** Posted points over the whole run (the sum of budgetUsedByPeriod). */
  budgetUsed: number;
  /** ISO week (branch timezone) → posted points: each is at most budgetPerPeriod. */
  budgetUsedByPeriod: Record<string, number>;
  decisions: AwardDecision[];
  /** The state after the last event. */
  state: IncentiveState;
}

/**
 * Runs a rule set over recorded events, in the order given, from the initial state: the same fold
 * as live evaluation, with the budget tracked per ISO week (see `budgetRemainingFor`).
 */
export function simulate(events: readonly EvaluableEvent[], ruleSet: RuleSet, ctx: SimulationContext): SimulationResult {
  const budgetPerPeriod = ctx.budgetPerPeriod ?? ruleSet.budget.points;
  let state = initialState();
  const decisions: AwardDecision[] = [];
  const perAdvisor: Record<string, number> = {};
  const budgetUsedByPeriod: Record<string, number> = {};
  const totals = { posted: 0, skipped: 0, points: 0 };

  for (const event of events) {
    const budgetRemaining = isEarningEvent(event) ? budgetRemainingFor(state, event.at, ctx.timezone, budgetPerPeriod) : 0;
    const result = evaluate(state, event, ruleSet, { timezone: ctx.timezone, ruleSetVersion: ctx.ruleSetVersion, budgetRemaining });
    state = result.state;
    for (const decision of result.decisions) {
      decisions.push(decision);
      const earned = decision.status === "posted" ? decision.points : 0;
      perAdvisor[decision.advisorId] = (own(perAdvisor, decision.advisorId) ?? 0) + earned;
      if (decision.status === "posted") {
        totals.posted += 1;
        totals.points += decision.points;
        const week = localTime(event.at, ctx.timezone).week;
        budgetUsedByPeriod[week] = (own(budgetUsedByPeriod, week) ?? 0) + decision.points;
      } else {
        totals.skipped += 1;
      }
    }
  }
  return { totals, perAdvisor, budgetUsed: totals.points, budgetUsedByPeriod, decisions, state };
}

/**
 * What is left of a per-period budget for an event at `at`, given the fold's state: the whole budget
 * in a new (later) week, budget minus used in the current one, and 0 for a week already closed
 * (an out-of-order event never spends a past week's budget twice).
 */
export function budgetRemainingFor(state: IncentiveState, at: number, timezone: string, budgetPerPeriod: number): number {
  const week = localTime(at, timezone).week;
  const { period, used } = state.budget;
  if (period === null || week > period) return Math.max(0, budgetPerPeriod);
  if (week === period) return Math.max(0, budgetPerPeriod - used);
  return 0;
}

export interface SimulationComparison {
  /** draft points − active points. */
  pointsDelta: number;
  /** advisorId → draft points − active points, over advisors in either simulation. */
  perAdvisorDelta: Record<string, number>;
}

/** How a draft rule set's simulation differs from the active one's over the same events. */
export function compareSimulations(draft: SimulationResult, active: SimulationResult): SimulationComparison {
  const advisors = [...new Set([...Object.keys(draft.perAdvisor), ...Object.keys(active.perAdvisor)])].sort();
  const perAdvisorDelta: Record<string, number> = {};
  for (const advisorId of advisors) {
    perAdvisorDelta[advisorId] = (own(draft.perAdvisor, advisorId) ?? 0) - (own(active.perAdvisor, advisorId) ?? 0);
  }
  return { pointsDelta: draft.totals.points - active.totals.points, perAdvisorDelta };
}

// ---------------------------------------------------------------------------------------------
// Local time

export interface LocalTime {
  /** 0–23. */
  hour: number;
  /** ISO weekday: Monday = 1 … Sunday = 7. */
  weekday: number;
  /** Local calendar day, "YYYY-MM-DD". */
  day: string;
  /** ISO week of the local day, "YYYY-Www". */
  week: string;
}

const DAY_MS = 86_400_000;

/** An instant's local hour, weekday, day and ISO week in a timezone. */
export function localTime(at: number, timezone: string): LocalTime {
  const { year, month, day, hour } = wallClock(at, timezone);
  const date = utcMs(year, month, day);
  const weekday = ((new Date(date).getUTCDay() + 6) % 7) + 1;
  const thursday = new Date(date + (4 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - utcMs(weekYear, 1, 1)) / DAY_MS / 7) + 1;
  return { hour, weekday, day: `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, week: `${pad(weekYear, 4)}-W${pad(week, 2)}` };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** [from, to) in local hours; from > to wraps midnight. */
export function hourInRange(hour: number, range: HourRange): boolean {
  return range.from < range.to ? hour >= range.from && hour < range.to : hour >= range.from || hour < range.to;
}

// ---------------------------------------------------------------------------------------------
// Rules

type EarningEvent = Extract<EvaluableEvent, { type: EarningEventType }>;

function isEarningEvent(event: EvaluableEvent): event is EarningEvent {
  return (EARNING_EVENT_TYPES as readonly string[]).includes(event.type);
}

function conditionsHold(when: Conditions | undefined, event: EarningEvent, streak: number, local: LocalTime): boolean {
  if (!when) return true;
  if (when.responseSecondsAtMost !== undefined && !(event.type === "offer.accepted" && event.latencyMs / 1000 <= when.responseSecondsAtMost)) return false;
  if (when.starsAtLeast !== undefined && !(event.type === "request.rated" && event.stars >= when.starsAtLeast)) return false;
  if (when.stage !== undefined && !(event.type === "offer.accepted" && event.stage === when.stage)) return false;
  if (when.streakAtLeast !== undefined && !(event.type === "offer.accepted" && streak >= when.streakAtLeast)) return false;
  if (when.localHourIn !== undefined && !hourInRange(local.hour, when.localHourIn)) return false;
  if (when.weekdayIn !== undefined && !when.weekdayIn.includes(local.weekday)) return false;
  if (when.queueDepthAtLeast !== undefined && !((event.queueDepth ?? 0) >= when.queueDepthAtLeast)) return false;
  if (when.licenceKindIn !== undefined && !(event.requiredLicence !== undefined && when.licenceKindIn.includes(event.requiredLicence))) return false;
  return true;
}

function capReason(rule: Rule, counts: AwardCounts | undefined, local: LocalTime): SkipReason | null {
  const perDay = rule.caps?.perAdvisorPerDay;
  if (perDay !== undefined && (own(counts?.days ?? {}, local.day) ?? 0) >= perDay) return "cap_per_day";
  const perWeek = rule.caps?.perAdvisorPerWeek;
  if (perWeek !== undefined && (own(counts?.weeks ?? {}, local.week) ?? 0) >= perWeek) return "cap_per_week";
  return null;
}

/** Half up, after trimming float noise (5 × 1.1 is 5.500000000000001, 0.5 × 3 must stay 1.5). */
function roundHalfUp(value: number): number {
  return Math.floor(Math.round(value * 1e6) / 1e6 + 0.5);
}

function countAward(awards: IncentiveState["awards"], ruleId: string, advisorId: string, local: LocalTime): IncentiveState["awards"] {
  const byAdvisor = own(awards, ruleId) ?? {};
  const counts = own(byAdvisor, advisorId) ?? { days: {}, weeks: {} };
  const next: AwardCounts = {
    days: bump(counts.days, local.day, KEEP_DAYS),
    weeks: bump(counts.weeks, local.week, KEEP_WEEKS),
  };
  return { ...awards, [ruleId]: { ...byAdvisor, [advisorId]: next } };
}

/** Adds one under `key`, keeping only the `keep` latest keys (keys sort chronologically). */
function bump(counts: Record<string, number>, key: string, keep: number): Record<string, number> {
  const next: Record<string, number> = { ...counts, [key]: (own(counts, key) ?? 0) + 1 };
  const keys = Object.keys(next).sort();
  for (const old of keys.slice(0, Math.max(0, keys.length - keep))) delete next[old];
  return next;
}

function nextBudget(budget: IncentiveState["budget"], week: string, posted: number): IncentiveState["budget"] {
  if (budget.period === null || week > budget.period) return posted > 0 ? { period: week, used: posted } : budget;
  if (week === budget.period) return posted > 0 ? { period: week, used: budget.used + posted } : budget;
  return budget; // a late event from a closed week: that week's budget is no longer tracked
}

// ---------------------------------------------------------------------------------------------
// Records keyed by outside ids (advisor ids): read own properties only.

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

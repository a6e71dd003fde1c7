/**
 * Staffing advice for one local day of a branch: per local hour, how many advisors Erlang C says
 * the observed demand needed to meet a service target (by default 80% of requests accepted within
 * 20 s), beside how many were available, the hours under target, and a surge incentive for them
 * (reporting/staffingSurge.ts). The statements are in reporting/staffingQuery.ts. What each figure
 * means:
 *
 * **Hours** are the branch's local hours of the date (Branch.timezone; a daylight-saving day has 23
 * or 25, a repeated hour is two), each with its `start` (UTC) and `localHour` (0-23). An hour still
 * running (the date is today) is observed up to now (`observedSeconds`); a later one not at all.
 *
 * - `arrivals`: the branch's requests created in the hour (any outcome).
 * - `handleSeconds`: the mean handle time, assignedAt → completedAt, of the hour's requests that were
 *   completed. With fewer than `MIN_HANDLED_IN_HOUR` of them, the mean of the branch's completed
 *   requests created in the 28 days ending with the date; `handleBasis` says which ("hour",
 *   "branch-28-days"), or "none" when the branch completed nothing in those 28 days either.
 * - `erlangs` = arrivals / observedSeconds × handleSeconds: the advisors the hour's work keeps busy.
 * - `advisorsNeeded`: the fewest advisors whose Erlang C service level reaches the target
 *   (reporting/erlangC.ts); 0 with no arrivals; null when there is no handle time to go on, or
 *   when less than `MIN_OBSERVED_SECONDS` of the running hour has passed (a rate over seconds is noise).
 * - `advisorsAvailable.mean`: available advisor-seconds / observedSeconds, from the presence history
 *   the KPIs' utilisation reads (an advisor available from a change to `available` until their next
 *   change); `advisorsAvailable.max`: the most advisors available at one instant of the hour.
 *   Under target is judged on the mean (the max may have lasted a minute).
 * - `expectedServiceLevel`: Erlang C's share within the target with ⌊mean⌋ advisors; 0 when that
 *   many cannot keep up (⌊mean⌋ ≤ erlangs); null when advisorsNeeded is.
 * - `underTarget`: advisorsNeeded > mean available (the same as expectedServiceLevel < target).
 *
 * **The model's assumptions**, said in the answer's `model` too: Poisson arrivals at the hour's
 * observed rate, exponential handle times, each advisor on one request at a time (Advisor.maxConcurrent
 * above 1 makes the advice cautious), requests served first come first served by any available
 * advisor of the branch (the funnel's region and national stages, which lend other branches'
 * advisors, are not counted), nobody giving up while waiting, and each hour on its own (steady state,
 * no queue carried over).
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { agentsNeeded, serviceLevel } from "./erlangC.ts";
import { HANDLE_FALLBACK_DAYS, hourStarts, localDay, staffingFacts, type AvailableSpan, type StaffingFacts } from "./staffingQuery.ts";
import { surgeFor, type SurgeSuggestion } from "./staffingSurge.ts";

/** Seconds of an hour that must have passed before its arrival rate is judged (the running hour's first minutes say little). */
export const MIN_OBSERVED_SECONDS = 300;
/** Completed requests an hour needs before its own mean handle time is used. */
export const MIN_HANDLED_IN_HOUR = 3;
/** How far back a date may be, in days before the branch's today. */
export const STAFFING_MAX_DAYS_BACK = 400;
export const DEFAULT_STAFFING_TARGET = { percent: 80, seconds: 20 } as const;

export const STAFFING_MODEL =
  "Erlang C (M/M/N): Poisson arrivals at each hour's observed rate, exponential handle times at the hour's mean, one request per advisor at a time, " +
  "first come first served by the branch's available advisors (region and national stages not counted), no abandonment, each hour in steady state on its own.";

export interface StaffingTarget {
  /** Share of requests to be accepted within `seconds`, in percent. */
  percent: number;
  seconds: number;
}

export type HandleBasis = "hour" | "branch-28-days" | "none";

export interface StaffingHour {
  start: string;
  localHour: number;
  observedSeconds: number;
  arrivals: number;
  handledInHour: number;
  handleSeconds: number | null;
  handleBasis: HandleBasis;
  erlangs: number | null;
  advisorsNeeded: number | null;
  advisorsAvailable: { mean: number; max: number };
  expectedServiceLevel: number | null;
  underTarget: boolean;
  surge: SurgeSuggestion | null;
}

export interface BranchStaffing {
  branchId: string;
  timezone: string;
  date: string;
  target: StaffingTarget;
  model: string;
  /** How the hours' handle times were found, in words. */
  basis: string;
  branchHandleSeconds: number | null;
  hours: StaffingHour[];
  underTargetHours: number;
}

export type StaffingResult =
  | { ok: true; staffing: BranchStaffing }
  | { ok: false; reason: "UNKNOWN_BRANCH" }
  | { ok: false; reason: "BAD_DATE"; message: string };

/** The branch's staffing advice for its local `date` (YYYY-MM-DD); see the header for each figure. */
export async function branchStaffing(
  prisma: PrismaClient,
  input: { branchId: string; date: string; target: StaffingTarget; now: Date },
): Promise<StaffingResult> {
  const day = await localDay(prisma, input.branchId, input.date, input.now);
  if (!day) return { ok: false, reason: "UNKNOWN_BRANCH" };
  const problem = dateProblem(input.date, day.today);
  if (problem) return { ok: false, reason: "BAD_DATE", message: problem };
  const starts = await hourStarts(prisma, input.branchId, day);
  const facts = await staffingFacts(prisma, input.branchId, day, starts, input.now);
  const branchHandleSeconds = facts.recent.handled > 0 ? facts.recent.handleSeconds / facts.recent.handled : null;
  const edges = [...starts.map((s) => new Date(s).getTime()), day.to.getTime()];
  const context = { date: input.date, timezone: day.timezone, target: input.target, branchHandleSeconds, now: input.now.getTime() };
  const hours = starts.map((_start, i) => hourOf(context, { start: edges[i]!, end: edges[i + 1]! }, facts, i + 1));
  return {
    ok: true,
    staffing: {
      branchId: input.branchId,
      timezone: day.timezone,
      date: input.date,
      target: input.target,
      model: STAFFING_MODEL,
      basis: basisOf(hours, branchHandleSeconds, facts.recent.handled),
      branchHandleSeconds,
      hours,
      underTargetHours: hours.filter((h) => h.underTarget).length,
    },
  };
}

/** Why a date cannot be advised on, or null: it must be the branch's today or one of the 400 days before. */
export function dateProblem(date: string, today: string): string | null {
  const days = (Date.parse(`${today}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`)) / 86_400_000;
  if (!Number.isFinite(days)) return "date must be a calendar date, YYYY-MM-DD";
  if (days < 0) return `date is after the branch's today (${today})`;
  if (days > STAFFING_MAX_DAYS_BACK) return `date may be at most ${STAFFING_MAX_DAYS_BACK} days before the branch's today (${today})`;
  return null;
}

interface HourContext {
  date: string;
  timezone: string;
  target: StaffingTarget;
  branchHandleSeconds: number | null;
  now: number;
}

function hourOf(context: HourContext, bounds: { start: number; end: number }, facts: StaffingFacts, k: number): StaffingHour {
  const observedEnd = Math.min(bounds.end, context.now);
  const observedSeconds = Math.max(0, (observedEnd - bounds.start) / 1_000);
  const own = facts.hours.find((h) => h.k === k);
  const arrivals = own?.arrivals ?? 0;
  const handledInHour = own?.handled ?? 0;
  const handleBasis: HandleBasis = handledInHour >= MIN_HANDLED_IN_HOUR ? "hour" : context.branchHandleSeconds === null ? "none" : "branch-28-days";
  const handleSeconds = handleBasis === "hour" ? own!.handleSeconds / handledInHour : context.branchHandleSeconds;
  const advisorsAvailable = availability(facts.spans, bounds.start, observedEnd);
  const share = context.target.percent / 100;
  let erlangs: number | null = null;
  let advisorsNeeded: number | null = null;
  let expectedServiceLevel: number | null = null;
  if (arrivals === 0) {
    erlangs = 0;
    advisorsNeeded = 0;
    expectedServiceLevel = 1;
  } else if (handleSeconds !== null && handleSeconds > 0 && observedSeconds >= MIN_OBSERVED_SECONDS) {
    erlangs = (arrivals / observedSeconds) * handleSeconds;
    advisorsNeeded = agentsNeeded(erlangs, handleSeconds, { share, withinSeconds: context.target.seconds });
    expectedServiceLevel = serviceLevel(Math.floor(advisorsAvailable.mean), erlangs, handleSeconds, context.target.seconds);
  }
  const underTarget = advisorsNeeded !== null && advisorsNeeded > advisorsAvailable.mean;
  const start = new Date(bounds.start);
  const localHour = Number(new Intl.DateTimeFormat("en-GB", { timeZone: context.timezone, hour: "2-digit", hourCycle: "h23" }).format(start));
  return {
    start: start.toISOString(),
    localHour,
    observedSeconds,
    arrivals,
    handledInHour,
    handleSeconds,
    handleBasis,
    erlangs,
    advisorsNeeded,
    advisorsAvailable,
    expectedServiceLevel,
    underTarget,
    surge: underTarget ? surgeFor({ date: context.date, localHour, needed: advisorsNeeded!, available: advisorsAvailable.mean }) : null,
  };
}

/** Mean advisors available over [start, end) (advisor-seconds / seconds) and the most at one instant. */
export function availability(spans: AvailableSpan[], start: number, end: number): { mean: number; max: number } {
  if (!(end > start)) return { mean: 0, max: 0 };
  const events: Array<[number, number]> = [];
  let seconds = 0;
  for (const span of spans) {
    const s = Math.max(span.start.getTime(), start);
    const e = Math.min(span.end.getTime(), end);
    if (!(e > s)) continue;
    seconds += (e - s) / 1_000;
    events.push([s, 1], [e, -1]);
  }
  // Ends before starts at the same instant: an advisor handing over to another is one, not two.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, delta] of events) {
    now += delta;
    max = Math.max(max, now);
  }
  return { mean: seconds / ((end - start) / 1_000), max };
}

function basisOf(hours: StaffingHour[], branchHandleSeconds: number | null, branchHandled: number): string {
  const own = hours.filter((h) => h.handleBasis === "hour").length;
  const fallback = hours.filter((h) => h.handleBasis === "branch-28-days" && h.arrivals > 0).length;
  const parts = [`${own} hour(s) used their own mean handle time (at least ${MIN_HANDLED_IN_HOUR} completed requests created in the hour)`];
  if (branchHandleSeconds === null)
    parts.push(`the branch completed no request in the ${HANDLE_FALLBACK_DAYS} days ending with the date, so hours without their own have no advice`);
  else
    parts.push(
      `${fallback} hour(s) with arrivals fell back to the branch's mean over the ${HANDLE_FALLBACK_DAYS} days ending with the date, ${round1(branchHandleSeconds)} s over ${branchHandled} completed requests`,
    );
  return `${parts.join("; ")}.`;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

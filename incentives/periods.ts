/**
 * Incentive periods: ISO weeks in a branch's own IANA timezone, as UTC instants.
 *
 * A branch's week runs from its local Monday 00:00 to the next one, so it is 168 hours long except
 * in the weeks where the clocks change (167 or 169 hours): weeks are found through the wall clock,
 * never by adding 7 × 24 h. Week keys come from evaluate.ts's localTime, so a settled period carries
 * exactly the key the evaluator and the budget funding used for the same week.
 *
 * Pure: no clock and no I/O; only Intl (no timezone library). An unknown timezone throws a RangeError.
 */
import { utcMs, wallClock } from "../core/wallClock.ts";
import { localTime } from "./evaluate.ts";

export interface Period {
  /** UTC milliseconds of the period's first instant (inclusive). */
  start: number;
  /** UTC milliseconds of the next period's first instant (exclusive). */
  end: number;
  /** The ISO week of the period in the branch's timezone, e.g. "2026-W13". */
  key: string;
}

const DAY_MS = 86_400_000;

/** The wall clock minus the instant: the zone's UTC offset at `at`, in milliseconds. */
function offsetAt(at: number, timezone: string): number {
  const wholeSecond = at - (((at % 1000) + 1000) % 1000);
  return wallClock(at, timezone).wallMs - wholeSecond;
}

/**
 * The first instant of a local calendar day. That is local 00:00 when it exists; when midnight
 * occurs twice (clocks set back over it) the earlier one; when the clocks jump over midnight (as
 * some zones do), the moment of the jump, which is the first instant whose local date is that day.
 */
function startOfLocalDay(year: number, month: number, day: number, timezone: string): number {
  const midnight = utcMs(year, month, day);
  // A day away from local midnight on either side: the offsets in force before and after any change
  // on that day (no zone changes its offset twice within two days).
  const before = offsetAt(midnight - DAY_MS, timezone);
  const after = offsetAt(midnight + DAY_MS, timezone);
  const candidates = [...new Set([before, after])].map((offset) => midnight - offset).filter((at) => wallClock(at, timezone).wallMs === midnight);
  if (candidates.length) return Math.min(...candidates);

  // Midnight falls in a gap (after > before): the jump lies between these two instants. The wall
  // clock only moves forward inside this window, so the first instant at or past midnight is found
  // by bisection, to the millisecond.
  let lo = midnight - after; // wall clock before midnight
  let hi = midnight - before; // wall clock past midnight
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (mid + offsetAt(mid, timezone) >= midnight) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The UTC instant of the most recent local Monday 00:00 at or before `at` in `timezone` (the start
 * of the ISO week `at` falls in there). Correct across DST changes: found on the local calendar,
 * then mapped back to an instant with the offset in force at that Monday's midnight.
 */
export function weekStart(at: number, timezone: string): number {
  if (!Number.isFinite(at)) throw new RangeError(`weekStart: not an instant: ${at}`);
  const local = wallClock(at, timezone);
  const date = utcMs(local.year, local.month, local.day);
  const isoWeekday = ((new Date(date).getUTCDay() + 6) % 7) + 1; // Monday = 1 … Sunday = 7
  const monday = new Date(date - (isoWeekday - 1) * DAY_MS);
  return startOfLocalDay(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), timezone);
}

/**
 * The last fully closed week before `at` in `timezone`: [start, end) where end is the start of the
 * week `at` is in. At exactly Monday 00:00 the week that just ended is the closed one.
 */
export function previousWeek(at: number, timezone: string): Period {
  const end = weekStart(at, timezone);
  // The last millisecond before `end` belongs to the closed week, however long its days were.
  const start = weekStart(end - 1, timezone);
  return { start, end, key: localTime(start, timezone).week };
}

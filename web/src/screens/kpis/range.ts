/**
 * The dashboard's ranges as instants: whole local days of the branch's timezone (the API buckets in
 * that timezone too, so a day bucket is a whole day). "Today" is [today's midnight, tomorrow's);
 * "last 7 days" ends at tomorrow's midnight and includes today; a custom range takes two calendar
 * dates, both included. Midnights are found with Intl, daylight saving included.
 */

export type RangeChoice = "today" | "last7" | "last30" | "custom";

export interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(timezone: string, instant: number): Record<string, number> {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timezone, f);
  }
  const out: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(instant))) if (p.type !== "literal") out[p.type] = Number(p.value);
  return out;
}

/** How far the timezone's wall clock is ahead of UTC at an instant, in ms. */
function offsetMs(timezone: string, instant: number): number {
  const p = partsIn(timezone, instant);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant a calendar date begins in the timezone. */
export function midnightOf(date: CalendarDate, timezone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  const guess = wall - offsetMs(timezone, wall);
  // Re-read the offset at the guess: it differs when a daylight-saving change lies in between.
  return new Date(wall - offsetMs(timezone, guess));
}

export function todayIn(timezone: string, now: number = Date.now()): CalendarDate {
  const p = partsIn(timezone, now);
  return { year: p.year!, month: p.month!, day: p.day! };
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** "2026-03-10", as a date input holds it. */
export const dateInputValue = (d: CalendarDate) => `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;

export function parseDateInput(value: string): CalendarDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) } : null;
}

export interface Range {
  from: Date;
  to: Date;
}

/** The range a choice stands for, or why a custom one cannot be asked for. */
export function rangeOf(choice: RangeChoice, timezone: string, custom: { from: string; to: string }, now = Date.now()): Range | { problem: string } {
  const today = todayIn(timezone, now);
  const tomorrow = midnightOf(addDays(today, 1), timezone);
  if (choice === "today") return { from: midnightOf(today, timezone), to: tomorrow };
  if (choice === "last7") return { from: midnightOf(addDays(today, -6), timezone), to: tomorrow };
  if (choice === "last30") return { from: midnightOf(addDays(today, -29), timezone), to: tomorrow };
  const from = parseDateInput(custom.from);
  const to = parseDateInput(custom.to);
  if (!from || !to) return { problem: "Enter both dates." };
  if (dateInputValue(from) > dateInputValue(to)) return { problem: "The first day must not be after the last day." };
  return { from: midnightOf(from, timezone), to: midnightOf(addDays(to, 1), timezone) };
}

/** A bucket's start as its label: the local hour ("10 Mar 14:00") or the local date ("2026-03-10"). */
export function bucketLabel(start: string, bucket: "hour" | "day", timezone: string): string {
  const d = new Date(start);
  if (bucket === "day") return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
  return new Intl.DateTimeFormat("en-GB", { timeZone: timezone, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    d,
  );
}

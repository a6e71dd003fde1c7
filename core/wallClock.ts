/**
 * Local wall-clock time in an IANA timezone, from Intl alone (no timezone library): the one reading
 * incentives' local hours, days and weeks and settlement periods are all built on.
 */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  /** 0–23. */
  hour: number;
  minute: number;
  second: number;
  /** The local date and time read as if it were UTC, in milliseconds (seconds precision). */
  wallMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

// Seconds precision: some historical offsets are not whole minutes, and callers derive offsets from
// the difference between the wall clock and the instant.
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** Date.UTC without its mapping of years 0–99 to 19xx. */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

/** The wall clock in `timezone` at instant `at`. Throws a RangeError for an unknown timezone. */
export function wallClock(at: number, timezone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timezone).formatToParts(at)) parts[part.type] = part.value;
  const year = Number(parts.year);
  const month = Number(parts.month);
  const day = Number(parts.day);
  // Some ICU versions print midnight as hour 24 even under h23.
  const hour = Number(parts.hour) % 24;
  const minute = Number(parts.minute);
  const second = Number(parts.second);
  return { year, month, day, hour, minute, second, wallMs: utcMs(year, month, day, hour, minute, second) };
}

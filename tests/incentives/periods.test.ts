/**
 * Incentive periods in a branch's timezone: week starts and the last closed week around the DST
 * changes of Europe/London and America/New_York (weeks of 167 and 169 hours), east of UTC
 * (Asia/Shanghai, where a UTC Sunday is already a local Monday), a midnight the clocks skip
 * (Asia/Tehran, 2021-03-22), ISO week keys across a year end, and properties over many zones.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { localTime } from "../../incentives/evaluate.ts";
import { previousWeek, weekStart } from "../../incentives/periods.ts";

const t = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

describe("weekStart", () => {
  it("is local Monday 00:00 in Europe/London across the spring change (2026-03-29)", () => {
    // Monday 2026-03-23 is in GMT (+00:00); Monday 2026-03-30 in BST (+01:00).
    expect(weekStart(t("2026-03-25T12:00:00Z"), "Europe/London")).toBe(t("2026-03-23T00:00:00Z"));
    expect(weekStart(t("2026-03-29T00:59:59.999Z"), "Europe/London")).toBe(t("2026-03-23T00:00:00Z")); // just before the change
    expect(weekStart(t("2026-03-29T01:00:00Z"), "Europe/London")).toBe(t("2026-03-23T00:00:00Z")); // just after it
    expect(weekStart(t("2026-03-29T22:59:59.999Z"), "Europe/London")).toBe(t("2026-03-23T00:00:00Z")); // Sunday 23:59:59.999 BST
    expect(weekStart(t("2026-03-29T23:00:00Z"), "Europe/London")).toBe(t("2026-03-29T23:00:00Z")); // Monday 00:00 BST
    expect(weekStart(t("2026-03-30T12:00:00Z"), "Europe/London")).toBe(t("2026-03-29T23:00:00Z"));
  });

  it("is local Monday 00:00 in Europe/London across the autumn change (2026-10-25), repeated hour included", () => {
    expect(weekStart(t("2026-10-19T10:00:00Z"), "Europe/London")).toBe(t("2026-10-18T23:00:00Z")); // Monday 00:00 BST
    // 01:30 local happens twice on 2026-10-25: first in BST, then in GMT.
    expect(weekStart(t("2026-10-25T00:30:00Z"), "Europe/London")).toBe(t("2026-10-18T23:00:00Z"));
    expect(weekStart(t("2026-10-25T01:30:00Z"), "Europe/London")).toBe(t("2026-10-18T23:00:00Z"));
    expect(weekStart(t("2026-10-25T23:59:59.999Z"), "Europe/London")).toBe(t("2026-10-18T23:00:00Z"));
    expect(weekStart(t("2026-10-26T00:00:00Z"), "Europe/London")).toBe(t("2026-10-26T00:00:00Z"));
    expect(weekStart(t("2026-10-26T09:00:00Z"), "Europe/London")).toBe(t("2026-10-26T00:00:00Z"));
  });

  it("is local Monday 00:00 in America/New_York across both changes, west of UTC", () => {
    expect(weekStart(t("2026-03-09T04:00:00Z"), "America/New_York")).toBe(t("2026-03-09T04:00:00Z")); // Monday 00:00 EDT
    expect(weekStart(t("2026-03-09T03:59:59.999Z"), "America/New_York")).toBe(t("2026-03-02T05:00:00Z")); // Sunday 23:59:59.999 EDT
    expect(weekStart(t("2026-03-08T07:30:00Z"), "America/New_York")).toBe(t("2026-03-02T05:00:00Z")); // 03:30 EDT, just past the gap
    expect(weekStart(t("2026-11-02T05:00:00Z"), "America/New_York")).toBe(t("2026-11-02T05:00:00Z")); // Monday 00:00 EST
    expect(weekStart(t("2026-11-02T04:59:59.999Z"), "America/New_York")).toBe(t("2026-10-26T04:00:00Z"));
    // Already Monday in UTC, still Sunday evening in New York: the previous local week.
    expect(weekStart(t("2026-11-02T02:00:00Z"), "America/New_York")).toBe(t("2026-10-26T04:00:00Z"));
  });

  it("is local Monday 00:00 east of UTC (Asia/Shanghai, +08:00): the UTC Sunday afternoon before", () => {
    expect(weekStart(t("2026-06-14T16:00:00Z"), "Asia/Shanghai")).toBe(t("2026-06-14T16:00:00Z"));
    expect(weekStart(t("2026-06-14T15:59:59.999Z"), "Asia/Shanghai")).toBe(t("2026-06-07T16:00:00Z"));
    expect(weekStart(t("2026-06-21T15:59:59.999Z"), "Asia/Shanghai")).toBe(t("2026-06-14T16:00:00Z")); // Sunday 23:59:59.999 local
  });

  it("starts a week at the jump when the clocks skip Monday midnight (Asia/Tehran, 2021-03-22 00:00 → 01:00)", () => {
    // There was no 00:00 that Monday: the day, and the week, began at 01:00 +04:30.
    expect(weekStart(t("2021-03-22T06:00:00Z"), "Asia/Tehran")).toBe(t("2021-03-21T20:30:00Z"));
    expect(weekStart(t("2021-03-21T20:30:00Z"), "Asia/Tehran")).toBe(t("2021-03-21T20:30:00Z"));
    expect(weekStart(t("2021-03-21T20:29:59.999Z"), "Asia/Tehran")).toBe(t("2021-03-14T20:30:00Z")); // Sunday 23:59:59.999 +03:30
  });

  it("refuses an unknown timezone and a non-instant", () => {
    expect(() => weekStart(t("2026-06-14T16:00:00Z"), "Mars/Olympus_Mons")).toThrow(RangeError);
    expect(() => weekStart(Number.NaN, "UTC")).toThrow(RangeError);
  });
});

describe("previousWeek", () => {
  it("is the 167-hour week closed by the spring change in Europe/London", () => {
    const week = previousWeek(t("2026-03-30T08:00:00Z"), "Europe/London");
    expect(week).toEqual({ start: t("2026-03-23T00:00:00Z"), end: t("2026-03-29T23:00:00Z"), key: "2026-W13" });
    expect(week.end - week.start).toBe(167 * HOUR);
  });

  it("is the 169-hour week closed by the autumn change in Europe/London", () => {
    const week = previousWeek(t("2026-10-26T00:00:00Z"), "Europe/London"); // exactly Monday 00:00: that week just closed
    expect(week).toEqual({ start: t("2026-10-18T23:00:00Z"), end: t("2026-10-26T00:00:00Z"), key: "2026-W43" });
    expect(week.end - week.start).toBe(169 * HOUR);
    // One millisecond earlier the week is still open: the closed one is the week before it.
    expect(previousWeek(t("2026-10-25T23:59:59.999Z"), "Europe/London")).toEqual({
      start: t("2026-10-11T23:00:00Z"),
      end: t("2026-10-18T23:00:00Z"),
      key: "2026-W42",
    });
  });

  it("is the 167- and 169-hour weeks around America/New_York's changes", () => {
    expect(previousWeek(t("2026-03-09T12:00:00Z"), "America/New_York")).toEqual({
      start: t("2026-03-02T05:00:00Z"),
      end: t("2026-03-09T04:00:00Z"),
      key: "2026-W10",
    });
    expect(previousWeek(t("2026-11-02T12:00:00Z"), "America/New_York")).toEqual({
      start: t("2026-10-26T04:00:00Z"),
      end: t("2026-11-02T05:00:00Z"),
      key: "2026-W44",
    });
  });

  it("is the local week east of UTC, even while UTC is still on Sunday (Asia/Shanghai)", () => {
    const closed = { start: t("2026-06-07T16:00:00Z"), end: t("2026-06-14T16:00:00Z"), key: "2026-W24" };
    expect(previousWeek(t("2026-06-14T20:00:00Z"), "Asia/Shanghai")).toEqual(closed); // Sunday in UTC, Monday 04:00 local
    expect(previousWeek(t("2026-06-15T03:00:00Z"), "Asia/Shanghai")).toEqual(closed);
    expect(closed.end - closed.start).toBe(168 * HOUR);
  });

  it("keys weeks by ISO week-numbering year across a year end", () => {
    // 2026 has 53 ISO weeks; W01 of 2026 began on Monday 2025-12-29.
    expect(previousWeek(t("2027-01-04T12:00:00Z"), "UTC")).toEqual({ start: t("2026-12-28T00:00:00Z"), end: t("2027-01-04T00:00:00Z"), key: "2026-W53" });
    expect(previousWeek(t("2026-01-05T00:00:00Z"), "UTC")).toEqual({ start: t("2025-12-29T00:00:00Z"), end: t("2026-01-05T00:00:00Z"), key: "2026-W01" });
    expect(previousWeek(t("2026-01-04T18:00:00Z"), "Asia/Shanghai").key).toBe("2026-W01"); // Monday 02:00 local
  });

  it("ends the week before a skipped Monday midnight at the jump (Asia/Tehran)", () => {
    const week = previousWeek(t("2021-03-22T06:00:00Z"), "Asia/Tehran");
    expect(week).toEqual({ start: t("2021-03-14T20:30:00Z"), end: t("2021-03-21T20:30:00Z"), key: "2021-W11" });
    expect(week.end - week.start).toBe(168 * HOUR); // Monday 00:00 +03:30 to the jump; the next week is 167 hours
  });
});

describe("periods: properties over many zones and instants", () => {
  // DST north and south, half- and quarter-hour offsets, a skipped Monday midnight, no DST at all.
  const zones = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Asia/Shanghai",
    "Asia/Tehran",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Santiago",
    "Asia/Kathmandu",
  ];
  const instant = fc.integer({ min: t("2000-01-01T00:00:00Z"), max: t("2035-12-31T00:00:00Z") });

  it("weekStart is a local Monday start at or before the instant, in the instant's ISO week", () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, (zone, at) => {
        const start = weekStart(at, zone);
        expect(start).toBeLessThanOrEqual(at);
        expect(at - start).toBeLessThan(169 * HOUR);
        expect(weekStart(start, zone)).toBe(start);
        expect(localTime(start, zone)).toMatchObject({ weekday: 1, week: localTime(at, zone).week });
        expect(localTime(start - 1, zone).weekday).toBe(7);
      }),
      { numRuns: 600 },
    );
  });

  it("previousWeek is the week just before the current one, 167 to 169 hours long", () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), instant, (zone, at) => {
        const week = previousWeek(at, zone);
        expect(week.end).toBe(weekStart(at, zone));
        expect(week.start).toBe(weekStart(week.end - 1, zone));
        expect(week.key).toBe(localTime(week.start, zone).week);
        expect(week.key).toBe(localTime(week.end - 1, zone).week);
        expect(week.end - week.start).toBeGreaterThanOrEqual(167 * HOUR);
        expect(week.end - week.start).toBeLessThanOrEqual(169 * HOUR);
      }),
      { numRuns: 600 },
    );
  });
});

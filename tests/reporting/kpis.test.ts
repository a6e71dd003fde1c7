/**
 * Branch KPIs (reporting/kpis.ts) on a scripted day with hand-worked answers, on PostgreSQL and on
 * embedded PGlite: every figure of every hour bucket (utilisation from the presence history too),
 * the day bucket, an empty day, a range that starts off a local boundary, and the buckets of a day
 * with a daylight-saving change.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgres, type Database } from "../../platform/database.ts";
import { branchKpis, type BranchKpis, type Kpis, type KpiRange } from "../../reporting/kpis.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { describeWithServices, probePostgres, TEST_DATABASE_URL } from "../support/services.ts";
import { insertScriptedDay, local, TIMEZONE, type ScriptedDay } from "./support/scriptedDay.ts";

/** percentile_cont's interpolation (PostgreSQL orderedsetaggs.c): lo + (hi - lo) * fraction. */
const lerp = (lo: number, hi: number, fraction: number) => lo + (hi - lo) * fraction;

const EMPTY: Kpis = {
  created: 0,
  assigned: 0,
  completed: 0,
  abandoned: 0,
  callbacks: 0,
  answerRate: null,
  abandonmentRate: null,
  timeToFirstOfferMs: { p50: null, p90: null },
  timeToAcceptMs: { p50: null, p90: null },
  answeredByStage: { dedicated: 0, branch: 0, region: 0, national: 0, queue: 0 },
  offers: 0,
  declineRate: null,
  timeoutRate: null,
  utilisation: null,
  meanRating: null,
  pointsPerCompleted: null,
};
const stages = (s: Partial<Kpis["answeredByStage"]>) => ({ ...EMPTY.answeredByStage, ...s });

/** The scripted requests by local hour (tests/reporting/support/scriptedDay.ts). */
const HOURS: Record<string, Kpis> = {
  // r1 r2 r3: first offers 2, 4, 6 s; accepts 10, 15, 40 s; 5 offers (1 declined, 1 timed out);
  // ratings 5 and 4; points 10+20, 10, 10 (a 15 reversed) over 3 completed.
  "09:00": {
    ...EMPTY,
    created: 3,
    assigned: 3,
    completed: 3,
    answerRate: 1,
    abandonmentRate: 0,
    timeToFirstOfferMs: { p50: 4_000, p90: lerp(4_000, 6_000, 0.9 * 2 - 1) },
    timeToAcceptMs: { p50: 15_000, p90: lerp(15_000, 40_000, 0.9 * 2 - 1) },
    answeredByStage: stages({ dedicated: 1, branch: 2 }),
    offers: 5,
    declineRate: 0.2,
    timeoutRate: 0.2,
    meanRating: 4.5,
    pointsPerCompleted: 50 / 3,
  },
  // r4 (on the boundary, still assigned) and r5: first offers 3, 20 s; accepts 5, 60 s; no points.
  "10:00": {
    ...EMPTY,
    created: 2,
    assigned: 2,
    completed: 1,
    answerRate: 1,
    abandonmentRate: 0,
    timeToFirstOfferMs: { p50: 11_500, p90: lerp(3_000, 20_000, 0.9) },
    timeToAcceptMs: { p50: 32_500, p90: lerp(5_000, 60_000, 0.9) },
    answeredByStage: stages({ region: 1, national: 1 }),
    offers: 2,
    declineRate: 0,
    timeoutRate: 0,
    meanRating: 3,
    pointsPerCompleted: 0,
  },
  // r6 (assigned from the queue) and r7 (assigned, then cancelled: not abandoned).
  "11:00": {
    ...EMPTY,
    created: 2,
    assigned: 2,
    completed: 1,
    answerRate: 1,
    abandonmentRate: 0,
    timeToFirstOfferMs: { p50: 3_500, p90: lerp(2_000, 5_000, 0.9) },
    timeToAcceptMs: { p50: 51_500, p90: lerp(3_000, 100_000, 0.9) },
    answeredByStage: stages({ queue: 1, dedicated: 1 }),
    offers: 3,
    declineRate: 0,
    timeoutRate: 1 / 3,
    meanRating: 2,
    pointsPerCompleted: 15,
  },
  // r8 (offered, withdrawn, cancelled) and r9 (cancelled before any offer): both abandoned.
  "12:00": {
    ...EMPTY,
    created: 2,
    abandoned: 2,
    answerRate: 0,
    abandonmentRate: 1,
    timeToFirstOfferMs: { p50: 5_000, p90: 5_000 },
    offers: 1,
    declineRate: 0,
    timeoutRate: 0,
  },
  // r10: expired with a callback after a declined and a timed-out offer.
  "13:00": {
    ...EMPTY,
    created: 1,
    callbacks: 1,
    answerRate: 0,
    abandonmentRate: 0,
    timeToFirstOfferMs: { p50: 1_000, p90: 1_000 },
    offers: 2,
    declineRate: 0.5,
    timeoutRate: 0.5,
  },
};

/**
 * Utilisation, worked by hand in seconds from the presence script (scriptedDay.ts presence) and A's
 * assignments: r1 [09:05:10, 09:07) 110, r2 [09:20:15, 09:22) 105, r3 [09:40:40, 09:42) 80, r4 from
 * 10:00:05 and still assigned (open until now, so to the range's end), r5 [10:51, 10:52) 60,
 * r6 [11:16:40, 11:17) 20, r7 [11:45:03, 11:47) 117 (cancelled after assignment). Available: A
 * 07:30-09:30 and 09:45-12:00, A2 09:00-10:30 and from 13:00 (open). B's presence is the other branch's.
 */
const UTILISATION: Record<string, number | null> = {
  "08:00": 0 / 3_600, // A alone, no assignment
  "09:00": (110 + 105 + 80) / (1_800 + 900 + 3_600), // A away 09:30-09:45, A2 from 09:00
  "10:00": (3_595 + 60) / (3_600 + 1_800), // r4 from 10:00:05, r5; A2 until 10:30
  "11:00": (3_600 + 20 + 117) / 3_600, // r4 runs alongside r6 and r7: above 1
  "12:00": null, // r4 assigned, nobody available
  "13:00": 3_600 / 3_600,
  "14:00": 3_600 / 3_600,
};
/** 08:00-15:00: the hours' seconds added up. */
const HOURS_UTILISATION = (295 + 3_655 + 3_737 + 3 * 3_600) / (3_600 + 6_300 + 5_400 + 3_600 + 0 + 3_600 + 3_600);

/** The whole day: first offers 1,2,2,3,4,5,5,6,20 s; accepts 3,5,10,15,40,60,100 s; 65 points over 5 completed. */
const DAY: Kpis = {
  ...EMPTY,
  created: 10,
  assigned: 7,
  completed: 5,
  abandoned: 2,
  callbacks: 1,
  answerRate: 0.7,
  abandonmentRate: 0.2,
  timeToFirstOfferMs: { p50: 4_000, p90: lerp(6_000, 20_000, 0.9 * 8 - 7) },
  timeToAcceptMs: { p50: 15_000, p90: lerp(60_000, 100_000, 0.9 * 6 - 5) },
  answeredByStage: { dedicated: 2, branch: 2, region: 1, national: 1, queue: 1 },
  offers: 13,
  declineRate: 2 / 13,
  timeoutRate: 3 / 13,
  meanRating: 3.5,
  pointsPerCompleted: 13,
};

function kpisSuite(open: () => Promise<Database>) {
  return () => {
    let database: Database;
    let day: ScriptedDay;
    const run = async (range: KpiRange, branchId = day.branchId): Promise<BranchKpis> => {
      const result = await branchKpis(database.prisma, { ...range, branchId });
      if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
      return result.kpis;
    };

    beforeAll(async () => {
      database = await open();
      day = await insertScriptedDay(database.prisma);
    }, 60_000);
    afterAll(async () => {
      await database?.close();
    });

    it("by local hour: every figure of every bucket, empty hours included, starts on the half hour in UTC", async () => {
      const kpis = await run({ from: local("08:00"), to: local("15:00"), bucket: "hour" });
      expect(kpis).toMatchObject({
        branchId: day.branchId,
        timezone: TIMEZONE,
        from: "2026-03-10T02:30:00.000Z",
        to: "2026-03-10T09:30:00.000Z",
        bucket: "hour",
      });
      expect(kpis.buckets.map((b) => b.start)).toEqual([
        "2026-03-10T02:30:00.000Z",
        "2026-03-10T03:30:00.000Z",
        "2026-03-10T04:30:00.000Z",
        "2026-03-10T05:30:00.000Z",
        "2026-03-10T06:30:00.000Z",
        "2026-03-10T07:30:00.000Z",
        "2026-03-10T08:30:00.000Z",
      ]);
      const byHour = ["08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00"].map((h) => ({
        start: local(h).toISOString(),
        ...(HOURS[h] ?? EMPTY),
        utilisation: UTILISATION[h],
      }));
      expect(kpis.buckets).toEqual(byHour);
      expect(kpis.total).toEqual({ ...DAY, utilisation: HOURS_UTILISATION });
    });

    it("by local day: the day's bucket and total are the whole day; the next day is an empty bucket", async () => {
      const kpis = await run({ from: local("00:00"), to: local("00:00", "2026-03-12"), bucket: "day" });
      // The day: A 2 h + 2 h 15 min, A2 1 h 30 min + 11 h available, r1-r3, r5-r7 and r4 until midnight
      // assigned. The next day: A2 and r4 both run through it (open until now).
      const dayAssigned = 295 + (14 * 3_600 - 5) + 60 + 20 + 117;
      const dayAvailable = 7_200 + 8_100 + 5_400 + 11 * 3_600;
      expect(kpis.buckets).toEqual([
        { start: "2026-03-09T18:30:00.000Z", ...DAY, utilisation: dayAssigned / dayAvailable },
        { start: "2026-03-10T18:30:00.000Z", ...EMPTY, utilisation: 1 },
      ]);
      expect(kpis.total).toEqual({ ...DAY, utilisation: (dayAssigned + 86_400) / (dayAvailable + 86_400) });
    });

    it("presence changed before from counts: each advisor's last change before the range starts a span in it", async () => {
      // 10:00-11:00: A available since 09:45 and A2 since 09:00, both changes before from.
      const hour = await run({ from: local("10:00"), to: local("11:00"), bucket: "hour" });
      expect(hour.buckets[0]?.utilisation).toBe(UTILISATION["10:00"]);
      expect(hour.total.utilisation).toBe(UTILISATION["10:00"]);
      // The next day: A2 available since 13:00 the day before and r4 assigned since 10:00:05, both open.
      const next = await run({ from: local("00:00", "2026-03-11"), to: local("00:00", "2026-03-12"), bucket: "day" });
      expect(next.total).toEqual({ ...EMPTY, utilisation: 1 });
    });

    it("a range starting off a local boundary: the first bucket starts at from, the evening before counts there", async () => {
      const kpis = await run({ from: local("23:00", "2026-03-09"), to: local("10:00"), bucket: "day" });
      expect(kpis.buckets.map((b) => b.start)).toEqual(["2026-03-09T17:30:00.000Z", "2026-03-09T18:30:00.000Z"]);
      const [evening, morning] = kpis.buckets;
      // The evening's one request: assigned in 2 s from the branch stage, rated 1, 50 points.
      expect(evening).toMatchObject({ created: 1, completed: 1, answeredByStage: stages({ branch: 1 }), meanRating: 1, pointsPerCompleted: 50 });
      // Its assignment (118 s) with nobody available: no utilisation.
      expect(evening?.utilisation).toBeNull();
      // 10:00 is excluded (to is exclusive), so the morning is the 09:00 hour's three; available are
      // A 07:30-09:30 and 09:45-10:00 and A2 09:00-10:00.
      expect(morning).toEqual({ start: "2026-03-09T18:30:00.000Z", ...HOURS["09:00"], utilisation: 295 / 11_700 });
      expect(kpis.total).toMatchObject({ created: 4, completed: 4, pointsPerCompleted: 100 / 4, meanRating: 10 / 3, utilisation: (295 + 118) / 11_700 });
    });

    it("another branch's requests and points are its own", async () => {
      const kpis = await run({ from: local("00:00"), to: local("00:00", "2026-03-11"), bucket: "day" }, day.otherBranchId);
      expect(kpis.timezone).toBe("UTC");
      expect(kpis.buckets.map((b) => b.start)).toEqual(["2026-03-09T18:30:00.000Z", "2026-03-10T00:00:00.000Z"]);
      // B: assigned 09:10:02-09:12 local, available from 08:00 local (02:30 UTC) to the range's end.
      expect(kpis.total).toMatchObject({
        created: 1,
        assigned: 1,
        completed: 1,
        meanRating: 1,
        pointsPerCompleted: 100,
        offers: 1,
        utilisation: 118 / (16 * 3_600),
      });
    });

    it("daylight saving: Europe/London's autumn day has 25 hour buckets, the repeated 01:00 twice", async () => {
      await database.prisma.branch.update({ where: { id: day.otherBranchId }, data: { timezone: "Europe/London" } });
      const from = new Date("2026-10-25T00:00:00+01:00");
      const to = new Date("2026-10-26T00:00:00Z");
      const hours = await run({ from, to, bucket: "hour" }, day.otherBranchId);
      expect(hours.buckets).toHaveLength(25);
      expect(hours.buckets.slice(0, 3).map((b) => b.start)).toEqual(["2026-10-24T23:00:00.000Z", "2026-10-25T00:00:00.000Z", "2026-10-25T01:00:00.000Z"]);
      const days = await run({ from, to: new Date("2026-10-27T00:00:00Z"), bucket: "day" }, day.otherBranchId);
      expect(days.buckets.map((b) => b.start)).toEqual(["2026-10-24T23:00:00.000Z", "2026-10-26T00:00:00.000Z"]);
      await database.prisma.branch.update({ where: { id: day.otherBranchId }, data: { timezone: "UTC" } });
    });

    it("refuses an empty, reversed, too long or too finely bucketed range, and an unknown branch", async () => {
      const bad = (range: KpiRange) => branchKpis(database.prisma, { ...range, branchId: day.branchId });
      const at = local("00:00");
      const days = (n: number) => new Date(at.getTime() + n * 86_400_000);
      expect(await bad({ from: at, to: at, bucket: "day" })).toMatchObject({ ok: false, reason: "BAD_RANGE", message: "from must be before to" });
      expect(await bad({ from: days(1), to: at, bucket: "day" })).toMatchObject({ ok: false, reason: "BAD_RANGE" });
      expect(await bad({ from: at, to: days(401), bucket: "day" })).toMatchObject({
        ok: false,
        reason: "BAD_RANGE",
        message: expect.stringContaining("400 days"),
      });
      expect(await bad({ from: at, to: days(400), bucket: "day" })).toMatchObject({ ok: true });
      expect(await bad({ from: at, to: days(84), bucket: "hour" })).toMatchObject({
        ok: false,
        reason: "BAD_RANGE",
        message: expect.stringContaining("2016 hour buckets"),
      });
      expect(await bad({ from: at, to: days(83), bucket: "hour" })).toMatchObject({ ok: true });
      expect(await branchKpis(database.prisma, { from: at, to: days(1), bucket: "day", branchId: "brn_nowhere" })).toEqual({
        ok: false,
        reason: "UNKNOWN_BRANCH",
      });
    });
  };
}

describe("branch KPIs on embedded PGlite", kpisSuite(openMigratedPglite));

describeWithServices(
  "branch KPIs on PostgreSQL",
  [await probePostgres()],
  kpisSuite(() => openPostgres(TEST_DATABASE_URL, { poolSize: 3 })),
);

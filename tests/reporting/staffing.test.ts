/**
 * Staffing advice (reporting/staffing.ts) on PostgreSQL and on embedded PGlite: the KPIs' scripted
 * day (tests/reporting/support/scriptedDay.ts), hour by hour with hand-worked figures (M/M/1 in
 * closed form where one advisor is enough), a heavy hour of a branch of its own where Erlang C asks
 * for 8 advisors and 2.5 were there (a surge of 3.25), today observed up to now, a daylight-saving
 * day's 25 hours, and the dates refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import { RuleSchema } from "../../incentives/rules/schema.ts";
import { openPostgres, type Database } from "../../platform/database.ts";
import { branchStaffing, type BranchStaffing, type StaffingHour } from "../../reporting/staffing.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { describeWithServices, probePostgres, TEST_DATABASE_URL, uniqueTag } from "../support/services.ts";
import { insertScriptedDay, local, type ScriptedDay } from "./support/scriptedDay.ts";

const TARGET = { percent: 80, seconds: 20 };
/** Two days after the scripted day: every span of it is closed or runs to its midnight. */
const AFTER = new Date("2026-03-12T00:00:00Z");

/** M/M/1: C = A, so SL(t) = 1 − A·e^(−(1 − A)·t / AHT). */
const mm1 = (a: number, aht: number, t: number) => 1 - a * Math.exp((-(1 - a) * t) / aht);

/**
 * The scripted day's completed requests: handle = 120 s − the accept delay. The 09:00 hour's own
 * three (110, 105, 80 s); the branch's 28 days add r5 60, r6 20 and the evening before's 118 s.
 */
const NINE_AHT = (110 + 105 + 80) / 3;
const BRANCH_AHT = (110 + 105 + 80 + 60 + 20 + 118) / 6;

interface HeavyDay {
  branchId: string;
}

/**
 * A branch in UTC whose 10:00 hour has 60 requests, one a minute, each handled for 300 s: 5
 * erlangs. Advisors: two available 09:00-12:00 and a third 10:15-10:45 (2.5 on average, 3 at most).
 */
async function insertHeavyDay(prisma: Database["prisma"]): Promise<HeavyDay> {
  const tag = uniqueTag();
  const branchId = `brn_s${tag}`;
  await prisma.branch.create({ data: { id: branchId, name: "Staffing branch", region: `rs${tag}`, timezone: "UTC" } });
  const advisors = [1, 2, 3].map((n) => `adv_s${n}${tag}`);
  await prisma.advisor.createMany({
    data: advisors.map((id, n) => ({ id, branchId, name: `S${n}`, maxConcurrent: 1, languages: ["en"], suitabilityMaxRisk: 5 })),
  });
  const clientId = `cli_s${tag}`;
  await prisma.client.create({ data: { id: clientId, branchId, name: "C", riskLevel: 2, language: "en" } });
  const at = (hhmm: string) => new Date(`2026-03-10T${hhmm}:00.000Z`);
  const presence: Array<[string, "available" | "offline", string]> = [
    [advisors[0]!, "available", "09:00"],
    [advisors[0]!, "offline", "12:00"],
    [advisors[1]!, "available", "09:00"],
    [advisors[1]!, "offline", "12:00"],
    [advisors[2]!, "available", "10:15"],
    [advisors[2]!, "offline", "10:45"],
  ];
  await prisma.advisorPresenceChange.createMany({
    data: presence.map(([advisorId, p, hhmm]) => ({ id: newId("presenceChange"), advisorId, branchId, presence: p, at: at(hhmm) })),
  });
  await prisma.serviceRequest.createMany({
    data: Array.from({ length: 60 }, (_, i) => {
      const createdAt = new Date(at("10:00").getTime() + i * 60_000);
      const assignedAt = new Date(createdAt.getTime() + 5_000);
      return {
        id: newId("request"),
        clientId,
        branchId,
        topic: "pension",
        requiredLicence: "fund_sales" as const,
        channel: "chat" as const,
        status: "completed" as const,
        stage: "branch" as const,
        stageIndex: 1,
        assignedAdvisorId: advisors[i % 2]!,
        createdAt,
        offeredAt: createdAt,
        assignedAt,
        completedAt: new Date(assignedAt.getTime() + 300_000),
      };
    }),
  });
  return { branchId };
}

function staffingSuite(open: () => Promise<Database>) {
  return () => {
    let database: Database;
    let day: ScriptedDay;
    let heavy: HeavyDay;
    const run = async (branchId: string, date: string, now = AFTER, target = TARGET): Promise<BranchStaffing> => {
      const result = await branchStaffing(database.prisma, { branchId, date, target, now });
      if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
      return result.staffing;
    };
    const hourAt = (s: BranchStaffing, h: number): StaffingHour => {
      const found = s.hours.find((x) => x.localHour === h);
      if (!found) throw new Error(`no hour ${h}`);
      return found;
    };

    beforeAll(async () => {
      database = await open();
      day = await insertScriptedDay(database.prisma);
      heavy = await insertHeavyDay(database.prisma);
    }, 60_000);
    afterAll(async () => {
      await database?.close();
    });

    it("the scripted day, hour by hour: arrivals, handle time and its basis, advisors needed and available", async () => {
      const s = await run(day.branchId, "2026-03-10");
      expect(s).toMatchObject({ branchId: day.branchId, timezone: "Asia/Kolkata", date: "2026-03-10", target: TARGET, underTargetHours: 1 });
      expect(s.hours).toHaveLength(24);
      expect(s.hours[0]?.start).toBe("2026-03-09T18:30:00.000Z");
      expect(s.hours.map((h) => h.localHour)).toEqual(Array.from({ length: 24 }, (_, h) => h));
      expect(s.branchHandleSeconds).toBeCloseTo(BRANCH_AHT, 9);
      expect(s.basis).toBe(
        "1 hour(s) used their own mean handle time (at least 3 completed requests created in the hour); 4 hour(s) with arrivals fell back to the branch's mean over the 28 days ending with the date, 82.2 s over 6 completed requests.",
      );

      // 08:00: A alone, nobody asked.
      expect(hourAt(s, 8)).toMatchObject({
        arrivals: 0,
        erlangs: 0,
        advisorsNeeded: 0,
        advisorsAvailable: { mean: 1, max: 1 },
        underTarget: false,
        surge: null,
      });
      // 09:00: r1-r3 completed, their own mean; A away 09:30-09:45, A2 from 09:00.
      const nine = hourAt(s, 9);
      const a9 = (3 / 3_600) * NINE_AHT;
      expect(nine).toMatchObject({ observedSeconds: 3_600, arrivals: 3, handledInHour: 3, handleBasis: "hour", advisorsNeeded: 1, underTarget: false });
      expect(nine.handleSeconds).toBeCloseTo(NINE_AHT, 9);
      expect(nine.erlangs).toBeCloseTo(a9, 12);
      expect(nine.advisorsAvailable).toEqual({ mean: (2_700 + 3_600) / 3_600, max: 2 });
      expect(nine.expectedServiceLevel).toBeCloseTo(mm1(a9, NINE_AHT, 20), 12);
      expect(nine.expectedServiceLevel).toBeCloseTo(0.932, 3);
      // 10:00: r4 (not completed) and r5: the branch's mean; A and A2 until 10:30.
      expect(hourAt(s, 10)).toMatchObject({
        arrivals: 2,
        handledInHour: 1,
        handleBasis: "branch-28-days",
        advisorsNeeded: 1,
        advisorsAvailable: { mean: 1.5, max: 2 },
      });
      expect(hourAt(s, 10).handleSeconds).toBeCloseTo(BRANCH_AHT, 9);
      expect(hourAt(s, 11)).toMatchObject({
        arrivals: 2,
        handleBasis: "branch-28-days",
        advisorsNeeded: 1,
        advisorsAvailable: { mean: 1, max: 1 },
        underTarget: false,
      });
      // 12:00: r8 and r9 asked, A went offline at 12:00 and A2 came back at 13:00: nobody.
      const noon = hourAt(s, 12);
      expect(noon).toMatchObject({ arrivals: 2, advisorsNeeded: 1, advisorsAvailable: { mean: 0, max: 0 }, expectedServiceLevel: 0, underTarget: true });
      expect(noon.erlangs).toBeCloseTo((2 / 3_600) * BRANCH_AHT, 12);
      expect(noon.surge).toMatchObject({ shortfall: 1, multiplier: 1.25 });
      expect(noon.surge?.rule).toEqual({
        id: "surge-d2-h12",
        on: "offer.accepted",
        when: { localHourIn: { from: 12, to: 13 }, weekdayIn: [2] },
        award: { multiplier: 1.25 },
      });
      expect(RuleSchema.safeParse(noon.surge?.rule).success).toBe(true);
      expect(noon.surge?.reasoning).toContain("1 advisors were needed and 0 were available on average, 1 short");
      // 13:00: r10 and A2 from 13:00 to the day's end.
      expect(hourAt(s, 13)).toMatchObject({ arrivals: 1, advisorsNeeded: 1, advisorsAvailable: { mean: 1, max: 1 }, underTarget: false });
      expect(hourAt(s, 23)).toMatchObject({ arrivals: 0, advisorsNeeded: 0, advisorsAvailable: { mean: 1, max: 1 } });
    });

    it("a stricter target asks for more: 99% within 1 s needs a second advisor at 09:00", async () => {
      const s = await run(day.branchId, "2026-03-10", AFTER, { percent: 99, seconds: 1 });
      // One advisor: 1 − A·e^(−(1−A)/AHT) ≈ 0.919, under 0.99; two reach it.
      expect(mm1((3 / 3_600) * NINE_AHT, NINE_AHT, 1)).toBeLessThan(0.99);
      expect(hourAt(s, 9)).toMatchObject({ advisorsNeeded: 2, underTarget: true });
      expect(hourAt(s, 9).surge).toMatchObject({ multiplier: 1.25, shortfall: 0.25 });
    });

    it("a heavy hour: 5 erlangs need 8 advisors for 80% in 20 s; 2.5 on average were there, so a surge of 3.25", async () => {
      const s = await run(heavy.branchId, "2026-03-10");
      const ten = hourAt(s, 10);
      expect(ten).toMatchObject({ arrivals: 60, handledInHour: 60, handleSeconds: 300, handleBasis: "hour", erlangs: 5, advisorsNeeded: 8 });
      expect(ten.advisorsAvailable).toEqual({ mean: 2.5, max: 3 });
      // Two advisors cannot keep up with 5 erlangs: nobody within 20 s.
      expect(ten.expectedServiceLevel).toBe(0);
      expect(ten.surge).toMatchObject({ shortfall: 5.5, multiplier: 3.25 });
      expect(ten.surge?.rule.when).toEqual({ localHourIn: { from: 10, to: 11 }, weekdayIn: [2] });
      expect(s.underTargetHours).toBe(1);
      // The hours either side had advisors and nobody asked.
      expect(hourAt(s, 9)).toMatchObject({ arrivals: 0, advisorsNeeded: 0, advisorsAvailable: { mean: 2, max: 2 }, underTarget: false });
    });

    it("today: hours are observed up to now, later hours not at all", async () => {
      const s = await run(heavy.branchId, "2026-03-10", new Date("2026-03-10T10:30:00Z"));
      const ten = hourAt(s, 10);
      // 30 requests in the first half hour, still 300 s each: the same 5 erlangs over 1,800 s.
      expect(ten).toMatchObject({ observedSeconds: 1_800, arrivals: 30, erlangs: 5, advisorsNeeded: 8 });
      // Two advisors all along and the third from 10:15: 2.5 again over the half hour.
      expect(ten.advisorsAvailable).toEqual({ mean: 2.5, max: 3 });
      expect(hourAt(s, 11)).toMatchObject({ observedSeconds: 0, arrivals: 0, advisorsNeeded: 0, advisorsAvailable: { mean: 0, max: 0 }, underTarget: false });
      // Four minutes into the hour: 4 requests, too short a look to judge a rate by.
      const early = hourAt(await run(heavy.branchId, "2026-03-10", new Date("2026-03-10T10:04:00Z")), 10);
      expect(early).toMatchObject({
        observedSeconds: 240,
        arrivals: 4,
        erlangs: null,
        advisorsNeeded: null,
        expectedServiceLevel: null,
        underTarget: false,
        surge: null,
      });
    });

    it("daylight saving: Europe/London's autumn day has 25 hours, 01:00 twice", async () => {
      const tag = uniqueTag();
      const branchId = `brn_sl${tag}`;
      await database.prisma.branch.create({ data: { id: branchId, name: "London", region: `rl${tag}`, timezone: "Europe/London" } });
      const s = await run(branchId, "2026-10-25", new Date("2026-10-27T00:00:00Z"));
      expect(s.hours).toHaveLength(25);
      expect(s.hours.slice(0, 3).map((h) => [h.start, h.localHour])).toEqual([
        ["2026-10-24T23:00:00.000Z", 0],
        ["2026-10-25T00:00:00.000Z", 1],
        ["2026-10-25T01:00:00.000Z", 1],
      ]);
      expect(s.basis).toContain("the branch completed no request in the 28 days");
    });

    it("refuses a date after the branch's today or more than 400 days before it, and an unknown branch", async () => {
      const now = local("01:00", "2026-03-10"); // 2026-03-09T19:30Z: already the 10th in Kolkata
      const ask = (date: string, branchId = day.branchId) => branchStaffing(database.prisma, { branchId, date, target: TARGET, now });
      expect(await ask("2026-03-10")).toMatchObject({ ok: true });
      expect(await ask("2026-03-11")).toMatchObject({ ok: false, reason: "BAD_DATE", message: "date is after the branch's today (2026-03-10)" });
      expect(await ask("2025-02-03")).toMatchObject({ ok: true }); // 400 days before
      expect(await ask("2025-02-02")).toMatchObject({ ok: false, reason: "BAD_DATE", message: expect.stringContaining("400 days") });
      expect(await ask("2026-03-10", "brn_nowhere")).toEqual({ ok: false, reason: "UNKNOWN_BRANCH" });
    });
  };
}

describe("staffing advice on embedded PGlite", staffingSuite(openMigratedPglite));

describeWithServices(
  "staffing advice on PostgreSQL",
  [await probePostgres()],
  staffingSuite(() => openPostgres(TEST_DATABASE_URL, { poolSize: 3 })),
);

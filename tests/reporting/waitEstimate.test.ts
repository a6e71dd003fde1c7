/**
 * The wait estimate (reporting/waitEstimate.ts) on scripted branches with hand-worked answers, on
 * PostgreSQL and on embedded PGlite: exact percentiles over a week of requests (the window's edges,
 * unanswered and still-waiting requests, another branch's and an older week's requests left out), an
 * interpolated 80th percentile at exactly the minimum sample, and no estimate below it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { openPostgres, type Database } from "../../platform/database.ts";
import { MIN_SAMPLE, waitEstimate } from "../../reporting/waitEstimate.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { describeWithServices, probePostgres, TEST_DATABASE_URL, uniqueTag } from "../support/services.ts";

const NOW = new Date("2026-04-20T12:00:00.000Z");
const DAY_MS = 24 * 3600 * 1000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** A request as the persister leaves it: created `createdAgoMs` before NOW, assigned `waitMs` later when given. */
interface Scripted {
  key: string;
  createdAgoMs: number;
  status: "pending" | "offered" | "assigned" | "completed" | "cancelled" | "expired";
  waitMs?: number;
  stage?: "dedicated" | "branch" | "region" | "national" | null;
  branch?: "other";
}

/** Writes a branch (and another) with a client and an advisor, then the scripted requests; returns their ids by key. */
async function script(prisma: PrismaClient, requests: Scripted[]): Promise<Record<string, string>> {
  const tag = uniqueTag();
  const branches = { main: `brn_w${tag}`, other: `brn_wo${tag}` };
  await prisma.branch.createMany({
    data: [
      { id: branches.main, name: "Wait branch", region: `r${tag}` },
      { id: branches.other, name: "Other branch", region: `r${tag}` },
    ],
  });
  const advisorId = `adv_w${tag}`;
  await prisma.advisor.create({ data: { id: advisorId, branchId: branches.main, name: "A", maxConcurrent: 5, languages: ["en"], suitabilityMaxRisk: 5 } });
  const clients = { main: `cli_w${tag}`, other: `cli_wo${tag}` };
  await prisma.client.createMany({
    data: [
      { id: clients.main, branchId: branches.main, name: "C", riskLevel: 2, language: "en" },
      { id: clients.other, branchId: branches.other, name: "D", riskLevel: 2, language: "en" },
    ],
  });
  const ids: Record<string, string> = {};
  await prisma.serviceRequest.createMany({
    data: requests.map((r) => {
      const id = `req_w${r.key}${tag}`;
      ids[r.key] = id;
      const where = r.branch ?? "main";
      const createdAt = ago(r.createdAgoMs);
      const assignedAt = r.waitMs === undefined ? null : new Date(createdAt.getTime() + r.waitMs);
      return {
        id,
        clientId: clients[where],
        branchId: branches[where],
        topic: "pension",
        requiredLicence: "fund_sales" as const,
        channel: "chat" as const,
        status: r.status,
        stage: r.stage === undefined ? "branch" : r.stage,
        stageIndex: r.stage === null ? 4 : 1,
        assignedAdvisorId: assignedAt ? advisorId : null,
        createdAt,
        assignedAt,
        cancelledAt: r.status === "cancelled" ? ago(r.createdAgoMs - 60_000) : null,
        expiredAt: r.status === "expired" ? ago(r.createdAgoMs - 60_000) : null,
        completedAt: r.status === "completed" ? ago(r.createdAgoMs - 600_000) : null,
      };
    }),
  });
  return ids;
}

const s = (seconds: number) => seconds * 1000;

function suite(open: () => Promise<Database>) {
  return () => {
    let database: Database;
    beforeAll(async () => {
      database = await open();
    }, 60_000);
    afterAll(async () => {
      await database?.close();
    });

    it("a week of six assigned requests: the exact median and 80th percentile, the unanswered named, the rest left out", async () => {
      const ids = await script(database.prisma, [
        // The six waits, 10 20 30 50 80 130 s: the median is between the 3rd and 4th, (30 + 50) / 2 = 40;
        // the 80th percentile is at 1 + 0.8 * 5 = the 5th, 80. Assigned, completed, or cancelled after
        // assignment alike; the oldest created exactly as the window opens.
        { key: "a1", createdAgoMs: 7 * DAY_MS, status: "completed", waitMs: s(130) },
        { key: "a2", createdAgoMs: 5 * DAY_MS, status: "completed", waitMs: s(10) },
        { key: "a3", createdAgoMs: 3 * DAY_MS, status: "cancelled", waitMs: s(80) },
        { key: "a4", createdAgoMs: 2 * DAY_MS, status: "completed", waitMs: s(30) },
        { key: "a5", createdAgoMs: DAY_MS, status: "assigned", waitMs: s(50) },
        { key: "a6", createdAgoMs: 3_600_000, status: "assigned", waitMs: s(20) },
        // Ended without an advisor: counted as unanswered, not in the waits.
        { key: "u1", createdAgoMs: 4 * DAY_MS, status: "cancelled" },
        { key: "u2", createdAgoMs: 6 * DAY_MS, status: "expired", stage: null },
        // Still waiting, the one asked about among them: in neither count.
        { key: "asked", createdAgoMs: 90_000, status: "offered", stage: "region" },
        { key: "w2", createdAgoMs: 30_000, status: "pending" },
        // Out of the window: a millisecond too old, and created after NOW; and another branch's.
        { key: "old", createdAgoMs: 7 * DAY_MS + 1, status: "completed", waitMs: s(1) },
        { key: "oldu", createdAgoMs: 8 * DAY_MS, status: "expired" },
        { key: "late", createdAgoMs: -1_000, status: "assigned", waitMs: s(1) },
        { key: "other", createdAgoMs: DAY_MS, status: "completed", waitMs: s(1), branch: "other" },
      ]);
      const estimate = await waitEstimate(database.prisma, ids.asked!, NOW);
      expect(estimate).toEqual({
        requestId: ids.asked,
        status: "offered",
        stage: "region",
        sampleSize: 6,
        medianSeconds: 40,
        p80Seconds: 80,
        basis:
          "time from asking to an advisor accepting, over the 6 requests to this branch that got an advisor in the last 7 days; 2 requests were cancelled or expired without one",
        access: { clientId: expect.stringMatching(/^cli_w/), branchId: expect.stringMatching(/^brn_w/), assignedAdvisorId: null },
      });
      // The same for any request of the branch; the queue is the stage past the funnel's last.
      const expired = await waitEstimate(database.prisma, ids.u2!, NOW);
      expect(expired).toMatchObject({ status: "expired", stage: "queue", sampleSize: 6, medianSeconds: 40, p80Seconds: 80 });
      const assigned = await waitEstimate(database.prisma, ids.a5!, NOW);
      expect(assigned?.access.assignedAdvisorId).toMatch(/^adv_w/);
    });

    it(`exactly ${MIN_SAMPLE} assigned: an estimate, the 80th percentile interpolated and rounded to the second`, async () => {
      const ids = await script(database.prisma, [
        // 10 20 30 40 100.6 s: median the 3rd, 30; 80th at 1 + 0.8 * 4 = 4.2: 40 + 0.2 * 60.6 = 52.12, so 52.
        { key: "a1", createdAgoMs: DAY_MS, status: "completed", waitMs: s(10) },
        { key: "a2", createdAgoMs: DAY_MS, status: "completed", waitMs: s(20) },
        { key: "a3", createdAgoMs: DAY_MS, status: "completed", waitMs: s(30) },
        { key: "a4", createdAgoMs: DAY_MS, status: "completed", waitMs: s(40) },
        { key: "a5", createdAgoMs: DAY_MS, status: "completed", waitMs: 100_600 },
        { key: "asked", createdAgoMs: 1_000, status: "pending" },
      ]);
      expect(await waitEstimate(database.prisma, ids.asked!, NOW)).toMatchObject({
        sampleSize: 5,
        medianSeconds: 30,
        p80Seconds: 52,
        basis: "time from asking to an advisor accepting, over the 5 requests to this branch that got an advisor in the last 7 days",
      });
    });

    it(`fewer than ${MIN_SAMPLE} assigned: no figures, and a basis that says so`, async () => {
      const ids = await script(database.prisma, [
        { key: "a1", createdAgoMs: DAY_MS, status: "completed", waitMs: s(10) },
        { key: "a2", createdAgoMs: DAY_MS, status: "completed", waitMs: s(20) },
        { key: "a3", createdAgoMs: DAY_MS, status: "completed", waitMs: s(30) },
        { key: "a4", createdAgoMs: DAY_MS, status: "completed", waitMs: s(40) },
        { key: "u1", createdAgoMs: DAY_MS, status: "expired" },
        // Another branch's plenty does not make up for it.
        ...Array.from({ length: 6 }, (_, i): Scripted => ({ key: `o${i}`, createdAgoMs: DAY_MS, status: "completed", waitMs: s(5), branch: "other" })),
        { key: "asked", createdAgoMs: 1_000, status: "pending", stage: "dedicated" },
      ]);
      expect(await waitEstimate(database.prisma, ids.asked!, NOW)).toMatchObject({
        status: "pending",
        stage: "dedicated",
        sampleSize: 4,
        medianSeconds: null,
        p80Seconds: null,
        basis:
          "too little recent history to estimate: 4 requests to this branch got an advisor in the last 7 days (at least 5 are needed); 1 request was cancelled or expired without one",
      });
      // A branch's first request: nothing at all.
      const first = await script(database.prisma, [{ key: "asked", createdAgoMs: 0, status: "pending" }]);
      expect(await waitEstimate(database.prisma, first.asked!, NOW)).toMatchObject({ sampleSize: 0, medianSeconds: null, p80Seconds: null });
    });

    it("no such request: null", async () => {
      expect(await waitEstimate(database.prisma, "req_nosuchrequest", NOW)).toBeNull();
    });
  };
}

describe("wait estimate on embedded PGlite", suite(openMigratedPglite));

describeWithServices(
  "wait estimate on PostgreSQL",
  [await probePostgres()],
  suite(() => openPostgres(TEST_DATABASE_URL, { poolSize: 3 })),
);

/**
 * A small history for the policy what-if, written straight into the record as the persister leaves
 * it: one branch (UTC) with one advisor, available all day from the day before, and six requests
 * on 2026-03-03 at 09:00 to 14:00 UTC, each offered to the advisor at once, accepted after exactly
 * `thinkMs` and completed 60 s later. So the fit is exact (accept probability 1, think time a
 * log-normal of sigma 0 at thinkMs, handle time 60 s) and the current policy's replay is known.
 * Ids are fresh per call, so the shared test database needs no cleanup.
 */
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import { uniqueTag } from "../../support/services.ts";

export const REPLAY_DAY = { from: "2026-03-03T00:00:00.000Z", to: "2026-03-04T00:00:00.000Z" };
export const HANDLE_MS = 60_000;
export const REQUESTS = 6;

export interface ReplayScript {
  branchId: string;
  advisorId: string;
}

export async function insertReplayScript(prisma: PrismaClient, thinkMs: number): Promise<ReplayScript> {
  const tag = uniqueTag();
  const branchId = `brn_w${tag}`;
  const advisorId = `adv_w${tag}`;
  const clientId = `cli_w${tag}`;
  await prisma.branch.create({ data: { id: branchId, name: "What-if branch", region: `rw${tag}`, timezone: "UTC" } });
  await prisma.advisor.create({
    data: { id: advisorId, branchId, name: "W", maxConcurrent: 2, languages: ["en"], suitabilityMaxRisk: 5, createdAt: new Date("2026-01-01T00:00:00Z") },
  });
  await prisma.licence.create({
    data: {
      id: `lic_w${tag}`,
      advisorId,
      kind: "fund_sales",
      number: `W-${tag}`,
      issuer: "test",
      validFrom: new Date("2025-01-01T00:00:00Z"),
      validUntil: new Date("2027-01-01T00:00:00Z"),
    },
  });
  await prisma.client.create({ data: { id: clientId, branchId, name: "C", riskLevel: 2, language: "en" } });
  await prisma.advisorPresenceChange.create({
    data: { id: `prs_w${tag}`, advisorId, branchId, presence: "available", at: new Date("2026-03-02T00:00:00Z") },
  });
  for (let i = 0; i < REQUESTS; i++) {
    const createdAt = new Date(Date.parse(`2026-03-03T${String(9 + i).padStart(2, "0")}:00:00.000Z`));
    const at = (ms: number) => new Date(createdAt.getTime() + ms);
    const requestId = `req_w${tag}_${i}`;
    await prisma.serviceRequest.create({
      data: {
        id: requestId,
        clientId,
        branchId,
        topic: "pension",
        requiredLicence: "fund_sales",
        channel: "chat",
        language: "en",
        riskLevel: 2,
        region: `rw${tag}`,
        status: "completed",
        stage: "branch",
        stageIndex: 1,
        assignedAdvisorId: advisorId,
        createdAt,
        offeredAt: createdAt,
        assignedAt: at(thinkMs),
        completedAt: at(thinkMs + HANDLE_MS),
      },
    });
    await prisma.offer.create({
      data: {
        id: `off_w${tag}_${i}`,
        requestId,
        advisorId,
        kind: "push",
        stage: "branch",
        stageIndex: 1,
        sentAt: createdAt,
        expiresAt: at(20_000),
        outcome: "accepted",
        respondedAt: at(thinkMs),
        eligibility: {},
      },
    });
  }
  return { branchId, advisorId };
}

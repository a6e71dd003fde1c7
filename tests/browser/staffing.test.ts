/**
 * The staffing screen in headless chromium against a real server on the demo data. A busy hour is
 * written into Central's record two days ago (10:00 local: 60 requests, one a minute, each handled
 * for 300 s, 5 erlangs, with two advisors available 09:00-12:00), then: the page's table reads exactly what the API
 * answers for the date and target on screen, the busy hour is marked under target with its surge,
 * a stricter target asks for more, a bad target says so in words; axe and a screenshot.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import type { ApiClient } from "../support/apiClient.ts";
import {
  type ConsoleServer,
  launchChromium,
  type OfflinePage,
  offlinePage,
  screenshot,
  seriousViolations,
  signInFromList,
  startConsoleServer,
} from "./support/harness.ts";

const BRANCH = "brn_demo_central";

/** The local calendar date `days` before today in the timezone, YYYY-MM-DD. */
const localDate = (timezone: string, days: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(Date.now() - days * 86_400_000));

/** The instant a local wall-clock time of the timezone falls on (no daylight-saving change near it assumed away: checked below). */
function localInstant(timezone: string, date: string, hhmm: string): Date {
  const wall = Date.parse(`${date}T${hhmm}:00Z`);
  const parts: Record<string, number> = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: timezone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
  });
  for (const p of format.formatToParts(new Date(wall))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  const offset = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!) - wall;
  return new Date(wall - offset);
}

async function tableRows(page: Page): Promise<string[][]> {
  const figure = page.getByTestId("chart-staffing");
  const details = figure.locator("details");
  if (!(await details.getAttribute("open"))) await figure.getByText("Advisors needed and available: the figures as a table").click();
  const rows = figure.locator("tbody tr");
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push((await rows.nth(i).locator("th, td").allTextContents()).map((t) => t.trim()));
  return out;
}

describe("staffing screen", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let session: OfflinePage;
  let page: Page;
  let manager: ApiClient;
  let date: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
    session = await offlinePage(browser, server.baseUrl);
    page = session.page;
    manager = server.api.as(await server.api.devToken("mgr_demo_central", "manager", BRANCH));
    const branch = await server.prisma.branch.findUniqueOrThrow({ where: { id: BRANCH } });
    date = localDate(branch.timezone, 2);
    const client = await server.prisma.client.findFirstOrThrow({ where: { branchId: BRANCH } });
    const [advisor, second] = await server.prisma.advisor.findMany({ where: { branchId: BRANCH }, take: 2, orderBy: { id: "asc" } });
    if (!advisor || !second) throw new Error("the demo data has fewer than two Central advisors");
    const ten = localInstant(branch.timezone, date, "10:00");
    // Two advisors available 09:00-12:00 that day: 2 on average at 10:00, where 8 were needed.
    await server.prisma.advisorPresenceChange.createMany({
      data: [advisor, second].flatMap((a) => [
        { id: newId("presenceChange"), advisorId: a.id, branchId: BRANCH, presence: "available" as const, at: localInstant(branch.timezone, date, "09:00") },
        { id: newId("presenceChange"), advisorId: a.id, branchId: BRANCH, presence: "offline" as const, at: localInstant(branch.timezone, date, "12:00") },
      ]),
    });
    await server.prisma.serviceRequest.createMany({
      data: Array.from({ length: 60 }, (_, i) => {
        const createdAt = new Date(ten.getTime() + i * 60_000);
        const assignedAt = new Date(createdAt.getTime() + 5_000);
        return {
          id: newId("request"),
          clientId: client.id,
          branchId: BRANCH,
          topic: "staffing check",
          requiredLicence: "fund_sales" as const,
          channel: "chat" as const,
          status: "completed" as const,
          stage: "branch" as const,
          stageIndex: 1,
          assignedAdvisorId: advisor.id,
          createdAt,
          offeredAt: createdAt,
          assignedAt,
          completedAt: new Date(assignedAt.getTime() + 300_000),
        };
      }),
    });
    await signInFromList(page, server.baseUrl, "Central manager");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function settled(expectDate: string) {
    await page.locator(`[data-testid="staffing-results"][data-date="${expectDate}"][aria-busy="false"]`).waitFor();
  }

  it("shows the day's advice exactly as the API answers it, the busy hour under target with its surge", async () => {
    await page.goto(`${server.baseUrl}/console/#/staffing`);
    await page.getByLabel("Day", { exact: true }).fill(date);
    await settled(date);
    const api = await manager.call("GET", `/v1/branches/${BRANCH}/staffing?date=${date}&targetPercent=80&targetSeconds=20`);
    expect(api.status).toBe(200);
    const busy = api.body.hours.find((h: { localHour: number }) => h.localHour === 10);
    expect(busy).toMatchObject({ arrivals: 60, handleSeconds: 300, erlangs: 5, advisorsNeeded: 8, advisorsAvailable: { mean: 2, max: 2 }, underTarget: true });
    expect(busy.surge).toMatchObject({ shortfall: 6, multiplier: 4 });

    const rows = await tableRows(page);
    expect(rows).toHaveLength(api.body.hours.length);
    const ten = rows.find((r) => r[0] === "10:00*");
    expect(ten).toEqual(["10:00*", "60", "300 s", "8", busy.advisorsAvailable.mean.toFixed(1), String(busy.advisorsAvailable.max), "under target"]);
    // Every row agrees with the API: needed, and the status in words.
    for (const [i, hour] of api.body.hours.entries()) {
      expect(rows[i]?.[3], rows[i]?.[0]).toBe(hour.advisorsNeeded === null ? "–" : String(hour.advisorsNeeded));
      expect(rows[i]?.[6]).toBe(hour.underTarget ? "under target" : "on target");
    }
    expect(await page.getByTestId("staffing-summary").textContent()).toContain(
      `${api.body.underTargetHours} of ${api.body.hours.length} hours under the target of 80% answered within 20 s`,
    );
    const surges = page.getByTestId("staffing-surge");
    expect(await surges.count()).toBe(api.body.underTargetHours);
    const busySurge = surges.filter({ hasText: "10:00:" });
    expect(await busySurge.textContent()).toContain(`Suggested surge: ×${busy.surge.multiplier} on accepts`);
    expect(await busySurge.textContent()).toContain(busy.surge.reasoning);
    expect(await page.getByRole("img", { name: /^Advisors needed and available:/ }).count()).toBe(1);
    await screenshot(page, "staffing");
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("follows the target inputs, and says a target out of range in words", async () => {
    await page.getByLabel("Answered (%)").fill("95");
    await page.getByLabel("Within (seconds)").fill("5");
    await page.getByText("under the target of 95% answered within 5 s").waitFor();
    await settled(date);
    const api = await manager.call("GET", `/v1/branches/${BRANCH}/staffing?date=${date}&targetPercent=95&targetSeconds=5`);
    const rows = await tableRows(page);
    const busy = api.body.hours.find((h: { localHour: number }) => h.localHour === 10);
    expect(busy.advisorsNeeded).toBeGreaterThan(8);
    expect(rows.find((r) => r[0] === "10:00*")?.[3]).toBe(String(busy.advisorsNeeded));

    await page.getByLabel("Answered (%)").fill("100");
    expect(await page.getByRole("alert").textContent()).toBe("The target share must be between 1 and 99 percent.");
    expect(session.blocked).toEqual([]);
  });
});

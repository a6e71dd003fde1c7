/**
 * Incentive rules and the leaderboard in the console, against a real server on the demo data: a
 * manager drafts a rule set in the form (a bad number is refused next to its field before anything
 * is sent), simulates it over a request completed earlier, activates it after the confirm step, and
 * after one more request is completed sees that advisor's award on the leaderboard, brought by the
 * incentives consumer; then rolls back by activating the first version again. Last, a period settled
 * on the server's own database shows in the list with its report, and its CSV downloads with the
 * session's token. Both screens pass an axe-core scan at each step; screenshots go to test-artifacts/.
 */
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlePeriod } from "../../incentives/settlement.ts";
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
const MANAGER = "mgr_demo_central";
const POINTS = 25;
/** The key of the period the last test settles. */
const PERIOD = "browser-test";

interface Listed {
  id: string;
  status?: string;
  languages?: string[];
  suitabilityMaxRisk?: number;
  licences?: Array<{ kind: string; status: string }>;
  riskLevel?: number;
  language?: string;
  dedicatedAdvisorId?: string | null;
}

/** An advisor of the branch who may serve a client of the branch with no dedicated advisor, and the licence kind to ask for. */
async function eligiblePair(manager: ApiClient, exclude: string[]): Promise<{ advisorId: string; clientId: string; licence: string }> {
  const advisors: Listed[] = (await manager.call("GET", `/v1/branches/${BRANCH}/advisors?limit=200`)).body.items;
  const clients: Listed[] = (await manager.call("GET", `/v1/branches/${BRANCH}/clients?limit=200`)).body.items;
  for (const client of clients.filter((c) => !c.dedicatedAdvisorId)) {
    for (const advisor of advisors.filter((a) => a.status === "active" && !exclude.includes(a.id))) {
      const licence = advisor.licences?.find((l) => l.status === "active");
      if (licence && advisor.languages?.includes(client.language!) && advisor.suitabilityMaxRisk! >= client.riskLevel!) {
        return { advisorId: advisor.id, clientId: client.id, licence: licence.kind };
      }
    }
  }
  throw new Error("the demo data has no eligible advisor and client pair left");
}

/** One request from creation to completion, through the API: the only available advisor is offered it, accepts and completes. */
async function completeOneRequest(server: ConsoleServer, pair: { advisorId: string; clientId: string; licence: string }): Promise<string> {
  const advisor = server.api.as(await server.api.devToken(pair.advisorId, "advisor", BRANCH));
  const client = server.api.as(await server.api.devToken(pair.clientId, "client"));
  expect((await advisor.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
  const created = await client.call("POST", "/v1/requests", { topic: "isa top-up", requiredLicence: pair.licence, channel: "chat" });
  expect(created.status).toBe(201);
  const { offerId } = await advisor.offerFor(created.body.id, 15_000);
  expect((await advisor.call("POST", `/v1/offers/${offerId}/accept`)).status).toBe(200);
  expect((await advisor.call("POST", `/v1/requests/${created.body.id}/complete`)).status).toBe(200);
  // Off duty again, so the next request goes to the next advisor alone.
  expect((await advisor.call("PUT", "/v1/advisors/me/presence", { status: "offline" })).status).toBe(200);
  return created.body.id;
}

describe("incentive rules and the leaderboard in the console", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let session: OfflinePage;
  let page: Page;
  let manager: ApiClient;
  let earlier: { advisorId: string; clientId: string; licence: string };
  /** The advisor whose request is completed under the active rules, earning POINTS. */
  let rewarded: { advisorId: string; clientId: string; licence: string };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
    session = await offlinePage(browser, server.baseUrl);
    page = session.page;
    manager = server.api.as(await server.api.devToken(MANAGER, "manager", BRANCH));
    // A request completed before any rule set exists: it earns nothing, but a simulation replays it.
    earlier = await eligiblePair(manager, []);
    await completeOneRequest(server, earlier);
    await signInFromList(page, server.baseUrl, "Central manager");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("drafts a rule set in the form, refusing a bad number next to its field before sending anything", async () => {
    await page.goto(`${server.baseUrl}/console/#/incentives`);
    await page.getByTestId("active-version").getByText("No version is active").waitFor();
    await page.getByRole("button", { name: "Draft a new rule set" }).click();
    const rule = page.getByRole("group", { name: /^Rule 1/ });
    await rule.getByLabel("Rule id").fill("completed-bonus");
    await rule.getByLabel("Earns when").selectOption("request.completed");
    await rule.getByLabel("Points per event").fill("lots");
    const posts: string[] = [];
    page.on("request", (r) => r.method() === "POST" && posts.push(r.url()));
    await page.getByRole("button", { name: "Save as draft" }).click();
    const error = page.locator('[data-field-error="rules.0.award"]');
    await error.waitFor();
    expect(await error.textContent()).toBe("Enter a number");
    expect(await rule.getByLabel("Points per event").getAttribute("aria-invalid")).toBe("true");
    expect(posts).toEqual([]);
    await screenshot(page, "incentives-draft-error");
    expect(await seriousViolations(page)).toEqual([]);

    await rule.getByLabel("Points per event").fill(String(POINTS));
    await page.getByRole("button", { name: "Save as draft" }).click();
    await page.getByTestId("rules-notice").getByText("Saved as draft version 1.").waitFor();
    const stored = await manager.call("GET", `/v1/branches/${BRANCH}/incentive-rules/1`);
    expect(stored.body).toMatchObject({
      status: "draft",
      createdBy: MANAGER,
      ruleSet: { rules: [{ id: "completed-bonus", on: "request.completed", award: { points: POINTS } }], budget: { points: 1000, period: "week" } },
    });
  });

  it("simulates the draft over recorded events: the earlier completion earns its points, in a table and a named chart", async () => {
    const panel = page.getByTestId("simulate-panel");
    await panel.getByRole("heading", { name: "Simulate version 1" }).waitFor();
    // The API's refusal is shown as it said it: message, code, and on the field it named.
    const firstDay = panel.getByLabel("First day");
    const lastWeek = await firstDay.inputValue();
    await firstDay.fill("1800-01-01");
    await panel.getByRole("button", { name: "Run simulation" }).click();
    const refusal = panel.getByRole("alert");
    await refusal.getByText("The simulation failed").waitFor();
    expect(await refusal.textContent()).toContain("VALIDATION_FAILED (HTTP 400)");
    expect(await panel.locator('[data-field-error="sim.from"]').textContent()).toMatch(/1900/);
    await firstDay.fill(lastWeek);
    await panel.getByRole("button", { name: "Run simulation" }).click();
    const table = panel.getByTestId("simulation-table");
    await table.waitFor();
    const row = table.getByRole("row", { name: new RegExp(earlier.advisorId) });
    expect(await row.getByRole("cell").first().textContent()).toBe(String(POINTS));
    expect(await panel.getByRole("status").textContent()).toContain(`1 award (${POINTS} points)`);
    expect(await panel.getByRole("img", { name: /Points per advisor under version 1/ }).count()).toBe(1);
    expect(await panel.locator(".recharts-bar-rectangle").count()).toBe(1);
    await screenshot(page, "incentives-simulation");
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("activates the version after a confirm step", async () => {
    await page.getByRole("button", { name: "Activate version 1" }).click();
    const confirm = page.getByTestId("confirm-activate");
    await confirm.waitFor();
    await screenshot(page, "incentives-confirm");
    // The confirm button has focus: Enter answers it.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Yes, activate version 1");
    await page.keyboard.press("Enter");
    await page.getByTestId("rules-notice").getByText("Version 1 is active.").waitFor();
    await page.getByTestId("active-version").getByText("Version 1 is active.").waitFor();
    expect(await confirm.count()).toBe(0);
    const versions = (await manager.call("GET", `/v1/branches/${BRANCH}/incentive-rules`)).body;
    expect(versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([[1, "active"]]);
  });

  it("shows the award of a request completed under the active rules on the leaderboard", async () => {
    const next = await eligiblePair(manager, [earlier.advisorId]);
    rewarded = next;
    await completeOneRequest(server, next);
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Leaderboard and settlements" }).click();
    const board = page.getByTestId("leaderboard");
    await board.waitFor();
    // The incentives consumer runs every 2 s and the page polls every 5 s.
    const pointsOf = (advisorId: string) => board.locator(`tr[data-advisor="${advisorId}"] td`).last().textContent();
    await expect.poll(() => pointsOf(next.advisorId), { timeout: 20_000, interval: 500 }).toBe(String(POINTS));
    expect(await board.locator(`tr[data-advisor="${next.advisorId}"] td`).first().textContent()).toBe("1");
    // Activation is not retroactive: the request completed before it earned nothing.
    expect(await pointsOf(earlier.advisorId)).toBe("0");
    const api = (await manager.call("GET", `/v1/branches/${BRANCH}/leaderboard`)).body;
    expect(api[0]).toMatchObject({ rank: 1, advisorId: next.advisorId, points: POINTS });
    await page.getByText("No period has been settled yet").waitFor();
    await screenshot(page, "settlements-leaderboard");
    expect(await seriousViolations(page)).toEqual([]);
    expect(session.blocked).toEqual([]);
  });

  it("rolls back by activating the earlier version again, each step confirmed", async () => {
    const richer = { rules: [{ id: "completed-bonus", on: "request.completed", award: { points: 2 * POINTS } }], budget: { points: 1000, period: "week" } };
    expect((await manager.call("POST", `/v1/branches/${BRANCH}/incentive-rules`, richer)).body).toMatchObject({ version: 2, status: "draft" });
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Incentive rules" }).click();
    await page.getByRole("button", { name: "Activate version 2" }).click();
    await page.getByTestId("confirm-activate").getByRole("button", { name: "Yes, activate version 2" }).click();
    await page.getByTestId("active-version").getByText("Version 2 is active.").waitFor();
    expect(await page.getByTestId("rules-notice").textContent()).toBe("Version 2 is active; version 1 is retired.");

    await page.getByRole("button", { name: "Roll back to version 1" }).click();
    const confirm = page.getByTestId("confirm-activate");
    expect(await confirm.textContent()).toContain("Roll back to version 1?");
    await confirm.getByRole("button", { name: "Yes, activate version 1" }).click();
    await page.getByTestId("active-version").getByText("Version 1 is active.").waitFor();
    const versions = (await manager.call("GET", `/v1/branches/${BRANCH}/incentive-rules`)).body;
    expect(versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [2, "retired"],
      [1, "active"],
    ]);
    await screenshot(page, "incentives-rolled-back");
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("shows a settled period's report and downloads its CSV with the bearer token", async () => {
    // Settlements are made by the hourly job for a closed week, which this run has none of: the
    // test settles a period itself, on the server's own database, as the job would. The period
    // covers the award of the request completed under the active rules above.
    const now = Date.now();
    const settled = await settlePeriod(server.prisma, { branchId: BRANCH, start: now - 3_600_000, end: now + 1_000, key: PERIOD, now });
    expect(settled.created).toBe(true);
    const id = settled.settlement.id;
    const csvPath = `/v1/branches/${BRANCH}/settlements/${id}?format=csv`;
    const authorizations: Array<string | undefined> = [];
    page.on("request", (r) => {
      if (r.url().endsWith(csvPath)) authorizations.push(r.headers().authorization);
    });

    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Leaderboard and settlements" }).click();
    const listed = page.getByTestId("settlements").getByRole("row", { name: new RegExp(PERIOD) });
    await listed.waitFor();
    // From, until, advisors paid, points, actions.
    const cells = listed.getByRole("cell");
    expect([await cells.nth(2).textContent(), await cells.nth(3).textContent()]).toEqual(["1", String(POINTS)]);
    await listed.getByRole("button", { name: `View report of period ${PERIOD}` }).click();
    const panel = page.getByTestId("settlement-report-panel");
    const line = panel.getByTestId("settlement-report").getByRole("row", { name: new RegExp(rewarded.advisorId) });
    await line.waitFor();
    expect(await line.getByRole("cell").allTextContents()).toEqual([String(POINTS), "1", `completed-bonus: ${POINTS}`, ""]);

    const saved = page.waitForEvent("download");
    await panel.getByRole("button", { name: `Download CSV of period ${PERIOD}` }).click();
    const file = await saved;
    // The file is the one the API serves to the manager, under the name its Content-Disposition gave.
    const served = await fetch(`${server.baseUrl}${csvPath}`, { headers: { authorization: `Bearer ${manager.token}` } });
    expect(served.status).toBe(200);
    const filename = `settlement-${BRANCH}-${PERIOD}.csv`;
    expect(served.headers.get("content-disposition")).toBe(`attachment; filename="${filename}"`);
    expect(file.suggestedFilename()).toBe(filename);
    const bytes = await readFile((await file.path())!);
    expect(bytes.equals(Buffer.from(await served.arrayBuffer()))).toBe(true);
    expect(bytes.toString("utf8")).toBe(`advisor_id,points,awards\r\n${rewarded.advisorId},${POINTS},1\r\n`);
    await panel.getByRole("status").getByText(`Saved ${filename}`).waitFor();
    // The page sent the session's token, which the API requires: without it the CSV is refused.
    const token = await page.evaluate(() => sessionStorage.getItem("adx.console.token"));
    expect(authorizations).toEqual([`Bearer ${token}`]);
    expect((await fetch(`${server.baseUrl}${csvPath}`)).status).toBe(401);
    await screenshot(page, "settlements-report");
    expect(await seriousViolations(page)).toEqual([]);
    expect(session.blocked).toEqual([]);
  });
});

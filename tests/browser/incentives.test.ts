/**
 * Incentive rules and the leaderboard in the console, against a real server on the demo data: a
 * manager drafts a rule set in the form (a bad number is refused next to its field before anything
 * is sent), simulates it over a request completed earlier, activates it after the confirm step, and
 * after one more request is completed sees that advisor's award on the leaderboard, brought by the
 * incentives consumer; then rolls back by activating the first version again. Both screens pass an
 * axe-core scan at each step; screenshots go to test-artifacts/.
 */
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

  it("downloads a settlement's CSV with the bearer token, and shows the API's refusal when there is none", async () => {
    // A settlement is made only by the hourly job for a closed week, so this run has none: the list
    // and the report are stubbed in the page with the contract's shapes. The first CSV request goes
    // to the real server, which knows no such settlement (a 404 it answers only to a signed-in
    // manager: without the token it would be a 401); the second is answered with a CSV file.
    const id = "stl_browser_test_1";
    const summary = {
      id,
      branchId: BRANCH,
      periodKey: "2026-W10",
      start: "2026-03-02T00:00:00.000Z",
      end: "2026-03-09T00:00:00.000Z",
      closedAt: "2026-03-09T01:05:00.000Z",
      advisors: 1,
      points: 30,
    };
    const line = { advisorId: "adv_demo_001", points: 30, awards: 2, byRule: { "completed-bonus": 30 } };
    const report = {
      branchId: BRANCH,
      period: { key: "2026-W10", start: summary.start, end: summary.end },
      advisors: [line],
      totals: { points: 30, awards: 2, advisors: 1 },
    };
    const csv = "advisor_id,points,awards\r\nadv_demo_001,30,2\r\n";
    const authorizations: Array<string | undefined> = [];
    await page.route(`**/v1/branches/${BRANCH}/settlements?*`, (route) => route.fulfill({ json: { items: [summary], nextCursor: null } }));
    await page.route(`**/v1/branches/${BRANCH}/settlements/${id}*`, (route) => {
      const url = new URL(route.request().url());
      if (url.searchParams.get("format") !== "csv") return route.fulfill({ json: { ...summary, report } });
      authorizations.push(route.request().headers().authorization);
      if (authorizations.length === 1) return route.continue();
      return route.fulfill({
        body: csv,
        headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": 'attachment; filename="settlement-brn_demo_central-2026-W10.csv"' },
      });
    });
    await page.getByRole("navigation", { name: "Screens" }).getByRole("link", { name: "Leaderboard and settlements" }).click();
    await page.getByTestId("settlements").getByRole("button", { name: "View report of period 2026-W10" }).click();
    const panel = page.getByTestId("settlement-report-panel");
    await panel
      .getByTestId("settlement-report")
      .getByRole("row", { name: /adv_demo_001/ })
      .waitFor();
    const download = panel.getByRole("button", { name: "Download CSV of period 2026-W10" });

    await download.click();
    const refusal = panel.getByRole("alert");
    await refusal.getByText(`branch ${BRANCH} has no settlement ${id}`).waitFor();
    expect(await refusal.textContent()).toContain("NOT_FOUND (HTTP 404)");

    const saved = page.waitForEvent("download");
    await download.click();
    const file = await saved;
    expect(file.suggestedFilename()).toBe("settlement-brn_demo_central-2026-W10.csv");
    const body = await readFile((await file.path())!, "utf8");
    expect(body).toBe(csv);
    await panel.getByRole("status").getByText("Saved settlement-brn_demo_central-2026-W10.csv").waitFor();
    const token = await page.evaluate(() => sessionStorage.getItem("adx.console.token"));
    expect(authorizations).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
    await screenshot(page, "settlements-report");
    expect(await seriousViolations(page)).toEqual([]);
    await page.unrouteAll();
  });
});

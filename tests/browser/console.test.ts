/**
 * The manager console in headless chromium against a real server on the demo data, with every
 * request outside that server blocked: a manager signs in from the dev list, watches the live board
 * pick up a new request from the socket feed, and edits the dispatch policy, including a save that
 * lost a race with another save and must say so.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleServer, launchChromium, type OfflinePage, offlinePage, screenshot, signInFromList, startConsoleServer } from "./support/harness.ts";

const BRANCH = "brn_demo_central";
/** The first demo client is in Central (demo clients go round the branches). */
const CLIENT = "cli_demo_001";

describe("manager console", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let session: OfflinePage;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
    session = await offlinePage(browser, server.baseUrl);
    page = session.page;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("signs a manager in by picking them from the demo list, and keeps the token for the tab", async () => {
    await signInFromList(page, server.baseUrl, "Central manager");
    expect(await page.getByTestId("signed-in-as").textContent()).toBe("mgr_demo_central");
    expect(await page.evaluate(() => sessionStorage.getItem("adx.console.token"))).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await page.reload();
    await page.getByTestId("signed-in-as").waitFor();
    expect(await page.getByRole("navigation", { name: "Screens" }).getByRole("link").count()).toBe(8);
  });

  it("shows a new request on the live board within 2 s of its creation, through the socket feed", async () => {
    await page.goto(`${server.baseUrl}/console/#/board`);
    await page.getByRole("heading", { name: /Waiting requests \(\d+\)/ }).waitFor();
    await page.getByTestId("feed-status").getByText("Live", { exact: true }).waitFor();
    await screenshot(page, "board-before");

    const client = server.api.as(await server.api.devToken(CLIENT, "client"));
    const created = await client.call("POST", "/v1/requests", { topic: "pension transfer", requiredLicence: "fund_sales", channel: "chat" });
    expect(created.status).toBe(201);
    const requestId: string = created.body.id;
    const since = Date.now();

    // The board's safety poll is 30 s: only the feed can bring the request in this fast.
    const row = page.getByTestId("queue-table").getByRole("cell", { name: requestId });
    const arrived = await row.waitFor({ timeout: 2_000 }).then(
      () => true,
      () => false,
    );
    if (!arrived) {
      // Say which half failed: the board's reads, or the feed that should have refreshed them.
      await page.reload();
      const afterReload = await row.waitFor({ timeout: 5_000 }).then(
        () => "is on the board after a reload, so the feed (branch.activity / branch.snapshot on /v1/ws) did not refresh it",
        () => "is not on the board even after a reload",
      );
      throw new Error(`request ${requestId} did not appear within 2 s; it ${afterReload}`);
    }
    expect(Date.now() - since).toBeLessThan(2_000);
    await page.getByTestId("last-activity").getByText(requestId).waitFor({ timeout: 2_000 });
    const queueDepth = page.getByTestId("snapshot-counts").locator("div", { hasText: "Queue depth" }).locator("dd");
    await expect.poll(async () => Number(await queueDepth.textContent()), { timeout: 2_000 }).toBeGreaterThanOrEqual(1);
    await screenshot(page, "board-after");
    expect(session.blocked).toEqual([]);
  });

  it("validates the policy form with the API's rules, next to the field, before sending anything", async () => {
    await page.goto(`${server.baseUrl}/console/#/policy`);
    await page.getByTestId("policy-version").waitFor();
    const puts: string[] = [];
    page.on("request", (r) => r.method() === "PUT" && puts.push(r.url()));
    await page.getByLabel("Offer open for (seconds)").fill("2");
    await page.getByLabel("Mean (stars)").fill("");
    await page.getByRole("button", { name: "Save policy" }).click();
    const offerError = page.locator('[data-field-error="offerTtlSeconds"]');
    await offerError.waitFor();
    expect(await offerError.textContent()).toMatch(/5/);
    expect(await page.locator('[data-field-error="ratingPrior.mean"]').textContent()).toBe("Enter a number");
    expect(await page.getByLabel("Offer open for (seconds)").getAttribute("aria-invalid")).toBe("true");
    expect(puts).toEqual([]);
    await screenshot(page, "policy-field-errors");
  });

  it("saves an edited policy with its version, and shows a stale save as a conflict with a way to reload", async () => {
    await page.goto(`${server.baseUrl}/console/#/policy`);
    await page.reload();
    const versionText = page.getByTestId("policy-version");
    await versionText.waitFor();
    const startVersion = Number((await versionText.textContent())!.match(/Version (\d+)/)![1]);

    await page.getByLabel("Offer open for (seconds)").fill("25");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page
      .getByTestId("policy-saved")
      .getByText(`Saved as version ${startVersion + 1}.`)
      .waitFor();
    const manager = server.api.as(await server.api.devToken("mgr_demo_central", "manager", BRANCH));
    const stored = await manager.call("GET", `/v1/branches/${BRANCH}/dispatch-policy`);
    expect(stored.body).toMatchObject({ version: startVersion + 1, updatedBy: "mgr_demo_central", policy: { offerTtlSeconds: 25 } });

    // Someone else saves in between; the page still holds version startVersion + 1.
    const { expectedVersion: _ignored, ...theirs } = { ...stored.body.policy, grabTopK: 7, expectedVersion: 0 };
    const other = await manager.call("PUT", `/v1/branches/${BRANCH}/dispatch-policy`, { ...theirs, expectedVersion: startVersion + 1 });
    expect(other.status).toBe(200);

    await page.getByLabel("Advisors per grab broadcast").fill("9");
    await page.getByRole("button", { name: "Save policy" }).click();
    const conflict = page.getByTestId("policy-conflict");
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain(`version ${startVersion + 2}`);
    await screenshot(page, "policy-conflict");
    const after = await manager.call("GET", `/v1/branches/${BRANCH}/dispatch-policy`);
    expect(after.body).toMatchObject({ version: startVersion + 2, policy: { grabTopK: 7 } });

    await conflict.getByRole("button", { name: "Load the latest version" }).click();
    await versionText.getByText(`Version ${startVersion + 2}`).waitFor();
    expect(await page.getByLabel("Advisors per grab broadcast").inputValue()).toBe("7");
    expect(await conflict.count()).toBe(0);
    expect(session.blocked).toEqual([]);
  });
});

/**
 * Accessibility of every console screen: an axe-core scan (injected from node_modules) finds no
 * serious or critical violation, and the frame is keyboard usable (a skip link first in the tab
 * order, landmarks for header, nav and main). Each screen's screenshot lands in test-artifacts/.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleServer, launchChromium, offlinePage, screenshot, seriousViolations, signInFromList, startConsoleServer } from "./support/harness.ts";

/** The nav's links (web/src/screens/registry.ts), by path and text; other people fill the screens in. */
const SCREENS: Array<[string, string]> = [
  ["board", "Live board"],
  ["policy", "Dispatch policy"],
  ["kpis", "KPIs"],
  ["staffing", "Staffing"],
  ["incentives", "Incentive rules"],
  ["settlements", "Leaderboard and settlements"],
  ["advisors", "Advisor directory"],
  ["record", "Request record"],
];

describe("console accessibility", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let blocked: string[];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
    ({ page, blocked } = await offlinePage(browser, server.baseUrl));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("the sign-in screen has no serious or critical violations", async () => {
    await page.goto(`${server.baseUrl}/console/`);
    await page.getByRole("button", { name: "Sign in as Central manager" }).waitFor();
    await screenshot(page, "screen-sign-in");
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("the scan is not blind: a probe input without a label is reported", async () => {
    await page.goto(`${server.baseUrl}/console/`);
    await page.getByRole("button", { name: "Sign in as Central manager" }).waitFor();
    await page.evaluate(() => document.querySelector("main")!.append(Object.assign(document.createElement("input"), { type: "text" })));
    expect((await seriousViolations(page)).map((v) => v.id)).toContain("label");
  });

  it("is keyboard usable: the skip link comes first and moves focus into main", async () => {
    await page.goto(`${server.baseUrl}/console/`);
    await page.getByRole("button", { name: "Sign in as Central manager" }).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to main content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
    // Signing in by keyboard alone: tab to the first demo user's button and press Enter.
    await page.getByRole("button", { name: "Sign in as Central manager" }).focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("signed-in-as").waitFor();
    for (const role of ["banner", "navigation", "main"] as const) expect(await page.getByRole(role).count()).toBe(1);
  });

  for (const [path, link] of SCREENS) {
    it(`the ${path} screen has no serious or critical violations`, async () => {
      if (!(await page.getByTestId("signed-in-as").count())) await signInFromList(page, server.baseUrl, "Central manager");
      const nav = page.getByRole("navigation", { name: "Screens" });
      await nav.getByRole("link", { name: link, exact: true }).click();
      await page.waitForURL(`**/console/#/${path}`);
      // The URL changes before React re-renders the nav: wait for the mark rather than read it once.
      await expect.poll(() => nav.getByRole("link", { name: link, exact: true }).getAttribute("aria-current")).toBe("page");
      await page.getByRole("heading", { level: 1 }).waitFor();
      // Let the screen's data arrive, so the scan sees the screen as a person does.
      await page.waitForLoadState("networkidle");
      if (path === "policy") {
        // With a field error showing, too: errors are where contrast and labelling usually slip.
        await page.getByLabel("Offer open for (seconds)").fill("1");
        await page.getByRole("button", { name: "Save policy" }).click();
        await page.locator("[data-field-error]").first().waitFor();
      }
      await screenshot(page, `screen-${path}`);
      expect(await seriousViolations(page)).toEqual([]);
      expect(blocked).toEqual([]);
    });
  }
});

/**
 * /docs in headless chromium with no network: Swagger UI's files come from our server
 * (swagger-ui-dist on disk), and the page lists the API's operations from /openapi.json.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleServer, launchChromium, offlinePage, screenshot, seriousViolations, startConsoleServer } from "./support/harness.ts";

describe("/docs offline", () => {
  let server: ConsoleServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("renders Swagger UI's operations list with every request kept on the server", async () => {
    const { page, blocked, errors } = await offlinePage(browser, server.baseUrl);
    const loaded: string[] = [];
    page.on("requestfinished", (request) => loaded.push(new URL(request.url()).pathname));
    await page.goto(`${server.baseUrl}/docs`);
    // One operation we know is there, shown as Swagger UI renders operations.
    const operation = page.locator(".opblock", { hasText: "/v1/branches/{id}/dispatch-policy" }).first();
    await operation.waitFor({ timeout: 15_000 });
    expect(await page.locator(".opblock").count()).toBeGreaterThan(20);
    expect(loaded).toEqual(expect.arrayContaining(["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/openapi.json"]));
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await screenshot(page, "docs");
  });

  it("has no serious or critical accessibility violations of ours on the page frame", async () => {
    const { page } = await offlinePage(browser, server.baseUrl);
    await page.goto(`${server.baseUrl}/docs`);
    await page.locator(".opblock").first().waitFor({ timeout: 15_000 });
    const violations = await seriousViolations(page);
    // Swagger UI's own markup is not ours to fix; the page around it must be clean: a language and a title.
    expect(violations.filter((v) => ["html-has-lang", "document-title"].includes(v.id))).toEqual([]);
  });
});

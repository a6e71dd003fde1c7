/**
 * The product end to end in three browser contexts at a phone's size, against a real server on the
 * embedded default: a client taps "Talk to an advisor" in the client app, the advisor's phone shows
 * the offer within a second of the tap, the advisor accepts, they write to each other both ways, the
 * advisor completes, the client rates; then a compliance officer opens the request's decision record
 * in the console and finds the conversation there, its hash chain verified.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleServer, launchChromium, offlinePage, PHONE, screenshot, seriousViolations, startConsoleServer } from "./support/harness.ts";
import { DESK_LICENCE, makeDesk } from "./support/desk.ts";

/** Signs in to an app (or the console) with a pasted token, as a deployment without demo sign-in would. */
async function pasteToken(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel("Bearer token (JWT)").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

describe("one flow across the client app, the advisor app and the console", () => {
  let server: ConsoleServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("client taps, the advisor's phone shows the offer within 1 s, accept, chat both ways, complete, rate, and the record shows the conversation", async () => {
    const admin = server.api.as(await server.api.devToken("adm_flow", "admin"));
    const desk = await makeDesk(server, admin, 1, { pool: "branch", mode: "dispatch", timeoutSeconds: 60, maxOffers: 1 });
    const advisor = desk.advisors[0]!;
    const [clientPhone, advisorPhone, officer] = await Promise.all([
      offlinePage(browser, server.baseUrl, PHONE),
      offlinePage(browser, server.baseUrl, PHONE),
      offlinePage(browser, server.baseUrl, PHONE),
    ]);
    const client = clientPhone.page;
    const phone = advisorPhone.page;

    // The advisor opens the app: signing in makes them available, and the first heartbeat says so.
    await pasteToken(phone, `${server.baseUrl}/app/advisor/`, await server.api.devToken(advisor.id, "advisor", desk.branchId));
    await phone.getByRole("heading", { name: "Your desk" }).waitFor();
    await phone.locator('[data-testid="connection-status"][data-status="live"]').waitFor();
    await expect.poll(async () => (await desk.manager.call("GET", `/v1/branches/${desk.branchId}/advisors?presence=available`)).body.items.length).toBe(1);

    await pasteToken(client, `${server.baseUrl}/app/client/`, await server.api.devToken(desk.clientId, "client"));
    await client.getByTestId("connection").getByText("Live").waitFor();
    await client.getByRole("button", { name: "Talk to an advisor" }).click();
    await client.getByLabel("What would you like to talk about?").fill("Moving my ISA into a fund");
    await client.getByLabel("Kind of advice").selectOption(DESK_LICENCE);
    await client.getByRole("radio", { name: "Chat here" }).check();
    await screenshot(client, "flow-client-form");

    const offer = phone.getByTestId("offer-card").first();
    const tapped = Date.now();
    await client.getByRole("button", { name: "Ask for an advisor" }).click();
    await offer.waitFor({ timeout: 5_000 });
    const offerShownMs = Date.now() - tapped;
    expect(offerShownMs, `the offer reached the advisor's phone ${offerShownMs} ms after the tap`).toBeLessThan(1_000);
    const requestId = await offer.getAttribute("data-request-id");
    expect(requestId).toMatch(/^req_/);
    await client.getByTestId("request-status").and(client.locator('[data-status="offered"]')).waitFor();
    await screenshot(phone, "flow-advisor-offer");
    await screenshot(client, "flow-client-waiting");

    await offer.getByRole("button", { name: "Accept" }).click();
    await phone.getByRole("heading", { name: "Conversation" }).waitFor();
    const card = client.getByTestId("advisor-card");
    await card.waitFor();
    expect(await card.getByTestId("advisor-name").textContent()).toContain(advisor.name);
    expect(await card.getByTestId("advisor-licence-number").textContent()).toContain(`FUN-${desk.branchId}-0`);

    // Both ways, each arriving on the other phone through the socket.
    await phone.getByLabel("Message to your client").fill("Hello, I can help with moving your ISA.");
    await phone.getByRole("button", { name: "Send" }).click();
    await client.getByTestId("messages").getByText("Hello, I can help with moving your ISA.").waitFor();
    await client.getByLabel("Message", { exact: true }).fill("Thank you: it is the stocks and shares one.");
    await client.getByTestId("send").click();
    await phone.getByRole("log", { name: "Messages" }).getByText("Thank you: it is the stocks and shares one.").waitFor();
    await screenshot(phone, "flow-advisor-chat");
    await screenshot(client, "flow-client-chat");

    await phone.getByRole("button", { name: "Complete" }).click();
    await client.getByTestId("rating-form").waitFor();
    await client.getByRole("radio", { name: "5 stars" }).check();
    await client.getByRole("button", { name: "Send rating" }).click();
    await client.getByTestId("rating-thanks").waitFor();
    const rated = await desk.client.call("GET", `/v1/requests/${requestId}`);
    expect(rated.body.status).toBe("completed");
    expect(rated.body.advisor.rating).toEqual({ average: 5, count: 1 });

    // The firm's record: the compliance officer reads the conversation in the decision record.
    const page = officer.page;
    await pasteToken(page, `${server.baseUrl}/console/`, await server.api.devToken("cmp_flow", "compliance"));
    await page.getByTestId("signed-in-as").waitFor();
    await page.goto(`${server.baseUrl}/console/?request=${requestId}#/record`);
    const recorded = page.getByTestId("record-messages");
    await recorded.waitFor();
    expect(await recorded.getByRole("listitem").allTextContents()).toEqual([
      expect.stringContaining(`${advisor.id} (advisor): Hello, I can help with moving your ISA.`),
      expect.stringContaining(`${desk.clientId} (client): Thank you: it is the stocks and shares one.`),
    ]);
    await page.locator('[data-testid="chain-state"][data-state="verified"]').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "flow-record");

    for (const { blocked, errors } of [clientPhone, advisorPhone, officer]) {
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
    }
  });
});

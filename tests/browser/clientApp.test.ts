/**
 * The client app ("talk to an advisor") in headless chromium at a phone's size, against a real
 * server on the embedded default, with every request outside that server blocked. The advisor's
 * side is played through the API. Each test signs in its own demo client, so none depends on
 * another: the whole flow from the tap to the rating, the API's field errors shown by their fields,
 * a cancel while waiting, and a callback when nobody is free within the branch's maximum wait. Every
 * screen is scanned by axe and kept as a phone screenshot.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient } from "../support/apiClient.ts";
import {
  type ConsoleServer,
  launchChromium,
  type OfflinePage,
  offlinePage,
  PHONE,
  screenshot,
  seriousViolations,
  startConsoleServer,
} from "./support/harness.ts";

/** What the waiting screen must say for each funnel stage (the client's words, not the API's codes). */
const STAGE_TEXT: Record<string, string> = {
  dedicated: "Asking your dedicated advisor",
  branch: "Asking advisors at your branch",
  region: "Asking advisors in your region",
  national: "Asking advisors nationwide",
  queue: "In the queue for the next free advisor",
};
const LICENCE_TEXT: Record<string, string> = {
  securities_advisory: "Investment advice (shares and bonds)",
  fund_sales: "Funds and pensions",
  futures: "Futures and derivatives",
  insurance: "Insurance",
};
/** The demo clients the sign-in list shows: the first three of each branch (directory/devUsers.ts). */
const LISTED_CLIENTS = ["cli_demo_001", "cli_demo_002", "cli_demo_004", "cli_demo_005", "cli_demo_007", "cli_demo_008"];
/** The clients the tests name below: the second pair's client is none of them, so no test sees another's requests. */
const NAMED_CLIENTS = [
  "cli_demo_003",
  "cli_demo_010",
  "cli_demo_011",
  "cli_demo_013",
  "cli_demo_014",
  "cli_demo_016",
  "cli_demo_017",
  "cli_demo_019",
  "cli_demo_022",
];
/** Branches: the flow and the cancel use Central and Harbour; only the callback test makes requests in Bay (its policy is changed). */
const CALLBACK_BRANCH = "brn_demo_bay";
/** For the estimate test, per branch: a client no other test uses, a client and an advisor to write history for. */
const ESTIMATE_BRANCHES = [
  { id: "brn_demo_central", client: "cli_demo_010", historyClient: "cli_demo_016", advisor: "adv_demo_001" },
  { id: "brn_demo_harbour", client: "cli_demo_014", historyClient: "cli_demo_017", advisor: "adv_demo_002" },
];

interface Pair {
  client: { id: string; name: string; branchId: string };
  advisor: { id: string; name: string; branchId: string };
  licence: { kind: string; number: string };
}

/**
 * A client and an advisor of their branch who may serve them (licence, suitability, language): by
 * default a client of the sign-in list (the flow test's pair); `except` picks another pair of the
 * same branch, with a client no other test uses and another advisor.
 */
async function eligiblePair(server: ConsoleServer, except?: Pair): Promise<Pair> {
  const now = new Date();
  const clients = await server.prisma.client.findMany({
    where: except ? { branchId: except.client.branchId, id: { notIn: [...LISTED_CLIENTS, ...NAMED_CLIENTS] } } : { id: { in: LISTED_CLIENTS } },
    orderBy: { id: "asc" },
  });
  const advisors = await server.prisma.advisor.findMany({
    where: { status: "active", branchId: { in: clients.map((c) => c.branchId) }, ...(except ? { id: { not: except.advisor.id } } : {}) },
    include: { licences: { where: { status: "active", validFrom: { lte: now }, validUntil: { gt: now } } } },
    orderBy: { id: "asc" },
  });
  const names = clients.map((c) => c.name);
  for (const client of clients) {
    // The list names people by name: pick one whose name nobody else listed shares.
    if (names.filter((n) => n === client.name).length > 1) continue;
    for (const advisor of advisors) {
      const licence = advisor.licences[0];
      if (advisor.branchId !== client.branchId || !licence || advisor.maxConcurrent < 1) continue;
      if (client.riskLevel > advisor.suitabilityMaxRisk || !advisor.languages.includes(client.language)) continue;
      return { client, advisor, licence: { kind: licence.kind, number: licence.number } };
    }
  }
  throw new Error("the demo data has no eligible client/advisor pair among the listed clients");
}

/** axe finds nothing serious on the screen as it is, and its phone screenshot is kept. */
async function checkScreen(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await seriousViolations(page), name).toEqual([]);
}

async function openApp(browser: Browser, server: ConsoleServer): Promise<OfflinePage> {
  const session = await offlinePage(browser, server.baseUrl, PHONE);
  await session.page.goto(`${server.baseUrl}/app/client/`);
  return session;
}

/** Signs in by pasting a dev token (the way in on a server without the demo list). */
async function signInWithToken(page: Page, server: ConsoleServer, clientId: string): Promise<ApiClient> {
  const token = await server.api.devToken(clientId, "client");
  await page.getByLabel("Bearer token (JWT)").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByTestId("signed-in-as").getByText(clientId).waitFor();
  return server.api.as(token);
}

/** Taps Talk, fills the form and sends it; the id of the request the app then shows. */
async function askForAdvisor(page: Page, topic: string, licence: string): Promise<string> {
  await page.getByRole("button", { name: "Talk to an advisor" }).click();
  await page.getByLabel("What would you like to talk about?").fill(topic);
  await page.getByLabel("Kind of advice").selectOption(licence);
  await page.getByRole("radio", { name: "Chat here" }).check();
  await page.getByRole("button", { name: "Ask for an advisor" }).click();
  await page.waitForURL(/#\/requests\/req_/);
  await page.getByTestId("waiting").waitFor();
  return decodeURIComponent(new URL(page.url()).hash.replace("#/requests/", ""));
}

describe("client app", () => {
  let server: ConsoleServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("takes a client from the tap to the rating: waiting, offered live, the advisor's card, chat both ways, completion and 5 stars", async () => {
    const { client, advisor, licence } = await eligiblePair(server);
    const advisorApi = server.api.as(await server.api.devToken(advisor.id, "advisor", advisor.branchId));
    const { page, blocked, errors } = await openApp(browser, server);
    try {
      await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
      await checkScreen(page, "client-sign-in");
      await page.getByRole("button", { name: `Sign in as ${client.name}` }).click();
      await page.getByTestId("signed-in-as").getByText(client.id).waitFor();
      await page.getByRole("button", { name: "Talk to an advisor" }).waitFor();
      await checkScreen(page, "client-home");

      await page.getByRole("button", { name: "Talk to an advisor" }).click();
      await page.getByLabel("What would you like to talk about?").waitFor();
      await checkScreen(page, "client-start-form");
      await page.goto(`${server.baseUrl}/app/client/#/`);
      const requestId = await askForAdvisor(page, "Moving my savings into funds", licence.kind);
      const clientApi = server.api.as(await server.api.devToken(client.id, "client"));

      // Nobody is available yet: the request waits, and the screen says where.
      const status = page.getByTestId("request-status");
      await status.getByText("Looking for an advisor", { exact: true }).waitFor();
      await page.getByTestId("connection").getByText("Live", { exact: true }).waitFor();
      const waiting = (await clientApi.call("GET", `/v1/requests/${requestId}`)).body;
      expect(waiting.status).toBe("pending");
      expect(await page.getByTestId("request-stage").textContent()).toBe(STAGE_TEXT[waiting.stage]);
      // Too little history on the demo data for a figure: the app says so rather than invent one.
      const estimate = (await clientApi.call("GET", `/v1/requests/${requestId}/wait-estimate`)).body;
      if (estimate.medianSeconds === null) {
        await page.getByTestId("wait-estimate").getByText("We don't have enough recent history to estimate your wait.").waitFor();
      } else {
        await page
          .getByTestId("wait-estimate")
          .getByText(/^Usually answered within about /)
          .waitFor();
      }
      await checkScreen(page, "client-waiting");

      // The advisor comes online and is offered the request; the app has no poll, so only the socket can say so.
      expect((await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
      await status.getByText("An advisor is being offered your request", { exact: true }).waitFor({ timeout: 5_000 });
      const offered = (await clientApi.call("GET", `/v1/requests/${requestId}`)).body;
      expect(offered.status).toBe("offered");
      expect(await page.getByTestId("request-stage").textContent()).toBe(STAGE_TEXT[offered.stage]);
      await checkScreen(page, "client-offered");

      const offer = await advisorApi.offerFor(requestId);
      expect((await advisorApi.call("POST", `/v1/offers/${offer.offerId}/accept`)).status).toBe(200);
      const card = page.getByTestId("advisor-card");
      await card.waitFor({ timeout: 5_000 });
      expect(await card.getByTestId("advisor-name").textContent()).toBe(advisor.name);
      expect(await card.getByTestId("advisor-licence").textContent()).toContain(`${LICENCE_TEXT[licence.kind]}, number ${licence.number}`);
      const assigned = (await clientApi.call("GET", `/v1/requests/${requestId}`)).body;
      expect(assigned.advisor).toMatchObject({ id: advisor.id, licence: { kind: licence.kind, number: licence.number } });
      // The rating is shown as the API gives it: an average and count, or "new advisor" without one.
      const rating = assigned.advisor.rating as { average: number | null; count: number } | undefined;
      if (!rating) expect(await card.getByTestId("advisor-rating").count()).toBe(0);
      else if (rating.average === null || rating.count === 0) expect(await card.getByTestId("advisor-rating").textContent()).toMatch(/^New advisor/);
      else expect(await card.getByTestId("advisor-rating").textContent()).toContain(`${rating.average.toFixed(1)} out of 5 from ${rating.count}`);

      // Messages both ways: the app's is recorded (with a key of its own); the advisor's reaches the app over the socket.
      const messageKeys: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST" && r.url().endsWith("/messages")) messageKeys.push(r.headers()["idempotency-key"] ?? "");
      });
      await page.getByLabel("Message").fill("Hello, I would like to move my savings into funds.");
      await page.getByRole("button", { name: "Send" }).click();
      const messages = page.getByTestId("messages");
      await messages.locator('[data-sender-role="client"]').getByText("Hello, I would like to move my savings into funds.").waitFor();
      expect(await page.getByLabel("Message").inputValue()).toBe("");
      const recorded = (await advisorApi.call("GET", `/v1/requests/${requestId}/messages`)).body.messages;
      expect(recorded.map((m: { senderRole: string; body: string }) => [m.senderRole, m.body])).toEqual([
        ["client", "Hello, I would like to move my savings into funds."],
      ]);
      expect(messageKeys).toHaveLength(1);
      expect(messageKeys[0]).toMatch(/^[0-9a-f]{32}$/);
      const reply = await advisorApi.call(
        "POST",
        `/v1/requests/${requestId}/messages`,
        { body: "Happy to help. Which funds?" },
        { "idempotency-key": "reply-1" },
      );
      expect(reply.status).toBe(201);
      await messages.locator('[data-sender-role="advisor"]').getByText("Happy to help. Which funds?").waitFor({ timeout: 5_000 });
      expect(await messages.getByTestId("message").count()).toBe(2);
      await checkScreen(page, "client-advisor-chat");

      // The advisor completes; the app turns to the rating, and the 5 stars given there are recorded.
      expect((await advisorApi.call("POST", `/v1/requests/${requestId}/complete`)).status).toBe(200);
      const form = page.getByTestId("rating-form");
      await form.waitFor({ timeout: 5_000 });
      expect(await page.getByLabel("Message").count()).toBe(0);
      await checkScreen(page, "client-rating");
      await form.getByRole("radio", { name: "5 stars" }).check();
      await form.getByLabel("Comment (optional)").fill("Clear and quick.");
      await form.getByRole("button", { name: "Send rating" }).click();
      await page.getByTestId("rating-thanks").getByText("Thank you: you gave 5 stars.").waitFor();
      const stored = await server.prisma.rating.findUnique({ where: { requestId } });
      expect(stored).toMatchObject({ stars: 5, comment: "Clear and quick.", clientId: client.id, advisorId: advisor.id });
      if (rating) {
        // The card is read again: the advisor's rating now counts this one.
        const after = (await clientApi.call("GET", `/v1/requests/${requestId}`)).body.advisor.rating;
        expect(after.count).toBe(rating.count + 1);
        await card
          .getByTestId("advisor-rating")
          .getByText(`${after.average.toFixed(1)} out of 5 from ${after.count}`)
          .waitFor();
      }
      await checkScreen(page, "client-rated");
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "offline" });
      await page.context().close();
    }
  });

  it("catches up after its socket drops: what it missed meanwhile (offered, assigned) is read again on reconnecting", async () => {
    const pair = await eligiblePair(server, await eligiblePair(server));
    const advisorApi = server.api.as(await server.api.devToken(pair.advisor.id, "advisor", pair.advisor.branchId));
    const { page, blocked } = await openApp(browser, server);
    // Between the page and the server: while `deaf`, what the server sends is lost, as on a socket
    // that died without either side noticing; `drop` then closes the page's end.
    let deaf = false;
    let sockets = 0;
    let drop = async () => {};
    await page.routeWebSocket(/\/v1\/ws$/, (ws) => {
      sockets++;
      const upstream = ws.connectToServer();
      upstream.onMessage((message) => {
        if (!deaf) ws.send(message);
      });
      drop = () => ws.close({ code: 4000, reason: "dropped by the test" });
    });
    let requestId = "";
    try {
      await signInWithToken(page, server, pair.client.id);
      requestId = await askForAdvisor(page, "A question about my ISA", pair.licence.kind);
      await page.getByTestId("connection").getByText("Live", { exact: true }).waitFor();
      const status = page.getByTestId("request-status");
      await status.getByText("Looking for an advisor", { exact: true }).waitFor();

      deaf = true;
      expect((await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "available" })).status).toBe(200);
      const offer = await advisorApi.offerFor(requestId);
      expect((await advisorApi.call("POST", `/v1/offers/${offer.offerId}/accept`)).status).toBe(200);
      expect(await status.textContent()).toBe("Looking for an advisor");

      // The app polls nothing: only the re-read after its reconnect can bring the advisor in.
      const before = sockets;
      deaf = false;
      await drop();
      await page.getByTestId("advisor-card").getByTestId("advisor-name").getByText(pair.advisor.name).waitFor({ timeout: 20_000 });
      expect(sockets).toBeGreaterThan(before);
      expect(blocked).toEqual([]);
    } finally {
      if (requestId) await advisorApi.call("POST", `/v1/requests/${requestId}/complete`);
      await advisorApi.call("PUT", "/v1/advisors/me/presence", { status: "offline" });
      await page.context().close();
    }
  });

  it("says when the phone is offline, and is live again when it is back", async () => {
    const { page, blocked } = await openApp(browser, server);
    try {
      await signInWithToken(page, server, "cli_demo_022");
      const connection = page.getByTestId("connection");
      await connection.getByText("Live", { exact: true }).waitFor();
      await page.context().setOffline(true);
      await connection.getByText("Offline: updates resume when you are back online").waitFor();
      await checkScreen(page, "client-offline");
      await page.context().setOffline(false);
      await connection.getByText("Live", { exact: true }).waitFor({ timeout: 10_000 });
      expect(blocked).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("shows the API's field errors by their fields, creates nothing, and signs out", async () => {
    const { page, blocked } = await openApp(browser, server);
    try {
      const clientApi = await signInWithToken(page, server, "cli_demo_011");
      await page.getByRole("button", { name: "Talk to an advisor" }).click();
      // Spaces pass the browser but not the API, which trims the topic: its 400 names the field.
      await page.getByLabel("What would you like to talk about?").fill("   ");
      await page.getByRole("button", { name: "Ask for an advisor" }).click();
      const topicError = page.locator('[data-field-error="topic"]');
      await topicError.waitFor();
      expect(await topicError.textContent()).toMatch(/\S/);
      const topic = page.getByLabel("What would you like to talk about?");
      expect(await topic.getAttribute("aria-invalid")).toBe("true");
      expect(await topic.getAttribute("aria-describedby")).toBe(await topicError.getAttribute("id"));
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("talk-topic");
      await checkScreen(page, "client-form-errors");
      expect((await clientApi.call("GET", "/v1/requests")).body.items).toEqual([]);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem("adx.client.token"))).toBeNull();
      expect(blocked).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("sends a request again with the same Idempotency-Key when the answer was lost, so one request is made", async () => {
    const { page, blocked } = await openApp(browser, server);
    try {
      const clientApi = await signInWithToken(page, server, "cli_demo_019");
      // The first create reaches the server, but its answer is lost on the way back.
      const keys: string[] = [];
      await page.route("**/v1/requests", async (route) => {
        if (route.request().method() !== "POST") return route.fallback();
        keys.push(route.request().headers()["idempotency-key"] ?? "");
        if (keys.length > 1) return route.fallback();
        const answer = await route.fetch();
        expect(answer.status()).toBe(201);
        return route.abort("connectionreset");
      });
      await page.getByRole("button", { name: "Talk to an advisor" }).click();
      await page.getByLabel("What would you like to talk about?").fill("Rebalancing my portfolio");
      await page.getByRole("button", { name: "Ask for an advisor" }).click();
      await page.getByRole("alert").getByText("Your request could not be sent").waitFor();
      await page.getByRole("button", { name: "Ask for an advisor" }).click();
      await page.waitForURL(/#\/requests\/req_/);
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(keys[1]).toBe(keys[0]);
      const mine = (await clientApi.call("GET", "/v1/requests")).body.items;
      expect(mine).toHaveLength(1);
      expect(page.url()).toContain(mine[0].id);
      expect((await clientApi.call("POST", `/v1/requests/${mine[0].id}/cancel`)).status).toBe(200);
      expect(blocked).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("cancels a waiting request: the API records it cancelled and the app says so", async () => {
    const { page, blocked } = await openApp(browser, server);
    try {
      const clientApi = await signInWithToken(page, server, "cli_demo_013");
      const requestId = await askForAdvisor(page, "Insurance for my flat", "insurance");
      await page.getByTestId("request-status").getByText("Looking for an advisor", { exact: true }).waitFor();
      await page.getByRole("button", { name: "Cancel my request" }).click();
      const ended = page.getByTestId("ended");
      await ended.getByText("You cancelled this request.").waitFor();
      expect(await ended.getAttribute("data-outcome")).toBe("cancelled");
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Request cancelled");
      const stored = (await clientApi.call("GET", `/v1/requests/${requestId}`)).body;
      expect(stored).toMatchObject({ status: "cancelled", callbackRequested: false });
      await checkScreen(page, "client-cancelled");
      expect(blocked).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("shows the wait estimate the API computed from the branch's week: the median, the 80th percentile and the sample", async () => {
    // Of Central and Harbour, the branch where no advisor takes a request in the other tests, so
    // that the five answered requests written here are its whole sample. (Not Bay: the callback
    // test changes Bay's policy, which the engine caches for 2 s after any read.)
    const { client: taken } = await eligiblePair(server);
    const branch = ESTIMATE_BRANCHES.find((b) => b.id !== taken.branchId)!;
    // Answered in the last day after 10, 20, 30, 40 and 50 s, as the record holds past requests.
    const day = Date.now() - 24 * 3600 * 1000;
    await server.prisma.serviceRequest.createMany({
      data: [10, 20, 30, 40, 50].map((wait, i) => ({
        id: `req_history_${i}`,
        clientId: branch.historyClient,
        branchId: branch.id,
        topic: "earlier question",
        requiredLicence: "insurance" as const,
        channel: "chat" as const,
        status: "completed" as const,
        assignedAdvisorId: branch.advisor,
        createdAt: new Date(day + i * 60_000),
        assignedAt: new Date(day + i * 60_000 + wait * 1000),
        completedAt: new Date(day + i * 60_000 + 600_000),
      })),
    });
    const { page, blocked } = await openApp(browser, server);
    try {
      const clientApi = await signInWithToken(page, server, branch.client);
      const requestId = await askForAdvisor(page, "Which policy covers travel?", "insurance");
      const estimate = (await clientApi.call("GET", `/v1/requests/${requestId}/wait-estimate`)).body;
      expect(estimate).toMatchObject({ sampleSize: 5, medianSeconds: 30, p80Seconds: 42 });
      await page.getByTestId("wait-estimate").getByText("Usually answered within about 30 s (the median of 5 recent requests); 80% within 42 s.").waitFor();
      await checkScreen(page, "client-waiting-estimate");
      expect((await clientApi.call("POST", `/v1/requests/${requestId}/cancel`)).status).toBe(200);
      expect(blocked).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("tells the client an advisor will call back when nobody answers within the branch's maximum wait", async () => {
    const manager = server.api.as(await server.api.devToken("mgr_demo_bay", "manager", CALLBACK_BRANCH));
    const before = (await manager.call("GET", `/v1/branches/${CALLBACK_BRANCH}/dispatch-policy`)).body;
    // One short stage and the shortest maximum wait the policy allows (10 s), with nobody available.
    const short = {
      ...before.policy,
      stages: [{ pool: "branch", mode: "dispatch", timeoutSeconds: 1, maxOffers: 1 }],
      maxWaitSeconds: 10,
      expectedVersion: before.version,
    };
    const put = await manager.call("PUT", `/v1/branches/${CALLBACK_BRANCH}/dispatch-policy`, short);
    expect(put.status).toBe(200);
    const { page, blocked } = await openApp(browser, server);
    try {
      // cli_demo_003 is in Bay (demo clients go round the branches).
      const clientApi = await signInWithToken(page, server, "cli_demo_003");
      const requestId = await askForAdvisor(page, "Futures margin question", "futures");
      await page.getByTestId("request-status").getByText("Looking for an advisor", { exact: true }).waitFor();
      const callback = page.getByTestId("callback");
      await callback.waitFor({ timeout: 30_000 });
      expect(await callback.textContent()).toBe("An advisor will call you back.");
      const stored = (await clientApi.call("GET", `/v1/requests/${requestId}`)).body;
      expect(stored).toMatchObject({ status: "expired", callbackRequested: true });
      await checkScreen(page, "client-callback");
      expect(blocked).toEqual([]);
    } finally {
      await page.context().close();
      const { expectedVersion: _v, ...restored } = { ...before.policy, expectedVersion: 0 };
      await manager.call("PUT", `/v1/branches/${CALLBACK_BRANCH}/dispatch-policy`, { ...restored, expectedVersion: put.body.version });
    }
  });
});

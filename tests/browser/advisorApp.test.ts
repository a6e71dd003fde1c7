/**
 * The advisor app (/app/advisor) in headless chromium at a phone's size, against a real server on
 * the embedded default. Each test makes its own branch (one region of its own, a funnel of one
 * branch stage) with its own advisors and client, so only the advisors it signs in to the app can be
 * offered its requests and no test sees another's: grab mode with three phones, a dropped network,
 * installability (manifest, icons, the service worker's shell offline), a push offer through to
 * completion, a surge alert, and the demo sign-in with presence and its heartbeat. Every screen is
 * checked with axe (0 serious or critical) and kept as a phone screenshot (test-artifacts/advisor-*.png).
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
import { type Desk, DESK_LICENCE, type DeskStage, makeDesk as makeSharedDesk } from "./support/desk.ts";

/** The app's heartbeat interval (web/src/apps/advisor/presence.ts HEARTBEAT_MS), well inside the server's 45 s presence TTL. */
const HEARTBEAT_MS = 20_000;
const LICENCE = DESK_LICENCE;

interface Phone extends OfflinePage {
  advisorId: string;
}

describe("advisor app", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let admin: ApiClient;
  let contexts: BrowserContext[] = [];

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
    admin = server.api.as(await server.api.devToken("adm_demo", "admin"));
  });
  afterEach(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const makeDesk = (advisors: number, stage: DeskStage, policyChanges: Record<string, unknown> = {}): Promise<Desk> =>
    makeSharedDesk(server, admin, advisors, stage, policyChanges);

  /** A phone signed in to the app as this advisor (a pasted token), with the socket live. */
  async function openPhone(desk: Desk, advisorId: string, beforeLoad?: (page: Page) => Promise<unknown>): Promise<Phone> {
    const phone = { ...(await offlinePage(browser, server.baseUrl, PHONE)), advisorId };
    contexts.push(phone.page.context());
    const { page } = phone;
    await beforeLoad?.(page);
    await page.goto(`${server.baseUrl}/app/advisor/`);
    await page.getByLabel("Bearer token (JWT)").fill(await server.api.devToken(advisorId, "advisor", desk.branchId));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Your desk" }).waitFor();
    await connection(page, "live").waitFor();
    return phone;
  }

  const connection = (page: Page, status: string) => page.locator(`[data-testid="connection-status"][data-status="${status}"]`);
  const offerCard = (page: Page, requestId: string) => page.locator(`[data-testid="offer-card"][data-request-id="${requestId}"]`);

  /** Until the server has these advisors available (the app's first heartbeat has landed). */
  async function available(desk: Desk, advisorIds: string[]): Promise<void> {
    await expect
      .poll(async () => {
        const listed = await desk.manager.call("GET", `/v1/branches/${desk.branchId}/advisors?presence=available`);
        return advisorIds.filter((id) => listed.body.items.some((a: { id: string }) => a.id === id)).length;
      })
      .toBe(advisorIds.length);
  }

  async function createRequest(desk: Desk, topic: string): Promise<string> {
    const created = await desk.client.call("POST", "/v1/requests", { topic, requiredLicence: LICENCE, channel: "chat" });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** In the page: presses the card's Accept at `at` (ms since the epoch). */
  function pressAcceptAt({ requestId, at }: { requestId: string; at: number }): Promise<void> {
    const card = document.querySelector(`[data-testid="offer-card"][data-request-id="${requestId}"]`);
    const accept = Array.from(card?.querySelectorAll("button") ?? []).find((b) => b.textContent === "Accept");
    if (!accept) throw new Error(`no Accept button on the card of ${requestId}`);
    return new Promise((pressed) =>
      setTimeout(
        () => {
          accept.click();
          pressed();
        },
        Math.max(0, at - Date.now()),
      ),
    );
  }

  async function expectAccessible(page: Page, name: string): Promise<void> {
    expect(await seriousViolations(page), name).toEqual([]);
    await screenshot(page, `advisor-${name}`);
  }

  it("grab mode: three phones see the request, all accept at once, exactly one wins and the other two see it taken", async () => {
    const desk = await makeDesk(3, { pool: "branch", mode: "grab", timeoutSeconds: 120, maxOffers: 20 });
    const three = await Promise.all(desk.advisors.map((a) => openPhone(desk, a.id)));
    await available(
      desk,
      desk.advisors.map((a) => a.id),
    );

    const requestId = await createRequest(desk, "grab: rebalance my fund portfolio");
    for (const { page } of three) {
      const card = page.getByTestId("grab-offers").locator(`[data-request-id="${requestId}"]`);
      await card.waitFor();
      expect(await card.getAttribute("data-kind")).toBe("broadcast");
    }
    await expectAccessible(three[0]!.page, "grab-list");

    // Every Accept ready to press, then all pressed at the same instant of the shared clock: a press
    // driven from here one page after another could come after the first win had already withdrawn
    // the other cards, and then not race at all.
    await Promise.all(three.map(({ page }) => offerCard(page, requestId).getByRole("button", { name: "Accept" }).click({ trial: true })));
    const answers = three.map(({ page }) => page.waitForResponse((r) => r.url().endsWith("/accept")));
    const at = Date.now() + 300;
    await Promise.all(three.map(({ page }) => page.evaluate(pressAcceptAt, { requestId, at })));
    const statuses = await Promise.all(answers.map(async (answer) => (await answer).status()));
    expect(statuses.sort()).toEqual([200, 409, 409]);
    // Each phone ends in one of two ways: the conversation (the winner) or the card saying it was taken.
    const outcomes = await Promise.all(
      three.map(async ({ page, advisorId }) => {
        const won = page.getByRole("heading", { name: "Conversation" });
        const lost = offerCard(page, requestId).getByTestId("offer-withdrawn");
        await won.or(lost).waitFor();
        return { advisorId, page, won: await won.isVisible() };
      }),
    );
    const winners = outcomes.filter((o) => o.won);
    expect(winners).toHaveLength(1);
    for (const loser of outcomes.filter((o) => !o.won)) {
      const reason = offerCard(loser.page, requestId).getByTestId("offer-withdrawn");
      expect(await reason.textContent()).toBe("Another advisor took it");
      expect(await reason.getAttribute("data-reason")).toBe("lost_race");
      expect(await offerCard(loser.page, requestId).getByRole("button", { name: "Accept" }).count()).toBe(0);
    }
    await expectAccessible(outcomes.find((o) => !o.won)!.page, "grab-withdrawn");

    const request = await desk.client.call("GET", `/v1/requests/${requestId}`);
    expect(request.body).toMatchObject({ status: "assigned", advisor: { id: winners[0]!.advisorId } });
    const assigned = await desk.manager.call("GET", `/v1/branches/${desk.branchId}/requests?status=assigned`);
    expect(assigned.body.items.filter((r: { id: string }) => r.id === requestId)).toHaveLength(1);
    // The withdrawn cards go after a few seconds rather than staying for good.
    for (const loser of outcomes.filter((o) => !o.won)) await offerCard(loser.page, requestId).waitFor({ state: "detached", timeout: 15_000 });
  });

  it("dropped network: an offer made while the phone is offline shows once it is back online, and can be accepted", async () => {
    const desk = await makeDesk(1, { pool: "branch", mode: "dispatch", timeoutSeconds: 120, maxOffers: 3 });
    const advisor = desk.advisors[0]!;
    const { page } = await openPhone(desk, advisor.id);
    await available(desk, [advisor.id]);

    await page.context().setOffline(true);
    await connection(page, "offline").waitFor();
    expect(await page.getByTestId("connection-status").textContent()).toMatch(/^Offline/);
    await expectAccessible(page, "offline");

    const requestId = await createRequest(desk, "offline: switch my pension fund");
    const asAdvisor = server.api.as(await server.api.devToken(advisor.id, "advisor", desk.branchId));
    const offer = await asAdvisor.offerFor(requestId);
    // Nothing can reach the phone while it is offline (a live phone shows a card well within this).
    await page.waitForTimeout(1_500);
    expect(await offerCard(page, requestId).count()).toBe(0);

    const reread = page.waitForRequest((r) => r.url().endsWith("/v1/advisors/me/offers"));
    await page.context().setOffline(false);
    await reread;
    const card = offerCard(page, requestId);
    await card.waitFor();
    expect(await card.getAttribute("data-offer-id")).toBe(offer.offerId);
    await connection(page, "live").waitFor();
    await card.getByRole("button", { name: "Accept" }).click();
    await page.getByRole("heading", { name: "Conversation" }).waitFor();
    const request = await desk.client.call("GET", `/v1/requests/${requestId}`);
    expect(request.body).toMatchObject({ status: "assigned", advisor: { id: advisor.id } });
  });

  it("is installable: a valid manifest with icons of the declared types and sizes, and a service worker that serves the shell offline", async () => {
    const manifest = await server.api.call("GET", "/app/advisor/manifest.webmanifest");
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get("content-type")).toMatch(/^application\/manifest\+json/);
    expect(manifest.body).toMatchObject({ start_url: "/app/advisor/", scope: "/app/advisor/", display: "standalone" });
    expect(manifest.body.name).toEqual(expect.any(String));
    expect(manifest.body.short_name).toEqual(expect.any(String));
    expect(manifest.body.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    expect(manifest.body.background_color).toMatch(/^#[0-9a-f]{6}$/i);
    const icons: Array<{ src: string; sizes: string; type: string; purpose: string }> = manifest.body.icons;
    expect(icons.filter((i) => i.type === "image/png").map((i) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    expect(icons.some((i) => i.type === "image/svg+xml")).toBe(true);
    for (const icon of icons) {
      expect(icon.purpose).toContain("any");
      const res = await fetch(new URL(icon.src, server.baseUrl));
      expect(res.status, icon.src).toBe(200);
      expect(res.headers.get("content-type"), icon.src).toBe(icon.type);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (icon.type === "image/png") {
        // The PNG signature, then IHDR: width and height, big-endian, at bytes 16 and 20.
        expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
        expect(`${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`, icon.src).toBe(icon.sizes);
      } else expect(bytes.toString("utf8")).toContain("<svg");
    }

    // An advisor who has the app open, signed in: the page registered the worker as it loaded.
    const desk = await makeDesk(1, { pool: "branch", mode: "dispatch", timeoutSeconds: 120, maxOffers: 3 });
    const { page } = await openPhone(desk, desk.advisors[0]!.id);
    expect(await page.evaluate(() => (document.querySelector('link[rel="manifest"]') as HTMLLinkElement | null)?.href)).toBe(
      `${server.baseUrl}/app/advisor/manifest.webmanifest`,
    );
    const worker = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const active = registration.active!;
      if (active.state !== "activated") await new Promise((done) => active.addEventListener("statechange", () => active.state === "activated" && done(null)));
      return { scope: registration.scope, state: active.state, script: active.scriptURL };
    });
    expect(worker).toEqual({ scope: `${server.baseUrl}/app/advisor/`, state: "activated", script: `${server.baseUrl}/app/advisor/sw.js` });
    // The shell is cached: the page and every asset it names.
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const cache = await caches.open(names.find((n) => n.startsWith("advisor-shell-"))!);
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
    const named = await (await fetch(`${server.baseUrl}/app/advisor/`)).text();
    for (const asset of named.match(/\/assets\/[^"'\s>]+/g) ?? []) expect(cached).toContain(asset);
    expect(cached).toEqual(expect.arrayContaining(["/app/advisor/", "/app/advisor/icon-192.png", "/app/advisor/icon-512.png", "/app/advisor/icon.svg"]));
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

    await page.context().setOffline(true);
    // The network really is cut, for the page (the API, which the worker leaves alone) and for the
    // worker's own fetches (an app path it never cached would come from the network if it could).
    const reach = (path: string) =>
      page.evaluate(
        (url) =>
          fetch(url, { cache: "no-store" }).then(
            (r) => `answered ${r.status}`,
            () => "unreachable",
          ),
        path,
      );
    expect(await reach("/v1/health")).toBe("unreachable");
    expect(await reach(`/app/advisor/never-cached-${Date.now()}`)).toBe("unreachable");
    const reloaded = await page.reload();
    expect(reloaded?.fromServiceWorker()).toBe(true);
    await page.getByRole("heading", { name: "Your desk" }).waitFor();
    await connection(page, "offline").waitFor();
    await screenshot(page, "advisor-offline-shell");
    await page.context().setOffline(false);
    await connection(page, "live").waitFor();
  });

  it("a push offer: the card and its countdown within 1 s, accept, messages both ways, complete", async () => {
    const desk = await makeDesk(1, { pool: "branch", mode: "dispatch", timeoutSeconds: 120, maxOffers: 3 });
    const advisor = desk.advisors[0]!;
    // Counts the vibrations the app asks for (headless chromium has no motor to tell).
    const countVibrations = (page: Page) =>
      page.addInitScript(() => {
        (window as unknown as { vibrations: number }).vibrations = 0;
        navigator.vibrate = () => ++(window as unknown as { vibrations: number }).vibrations > 0;
      });
    const { page, blocked, errors } = await openPhone(desk, advisor.id, countVibrations);
    await available(desk, [advisor.id]);
    await expectAccessible(page, "desk");

    const since = Date.now();
    const requestId = await createRequest(desk, "push: should I move my ISA into a global fund?");
    const card = page.getByTestId("push-offers").locator(`[data-request-id="${requestId}"]`);
    await card.waitFor({ timeout: 1_000 });
    expect(Date.now() - since).toBeLessThan(1_000);
    expect(await card.getAttribute("data-kind")).toBe("push");
    const countdown = card.getByRole("timer");
    const first = Number(await countdown.getAttribute("data-seconds-left"));
    expect(first).toBeGreaterThan(50);
    expect(first).toBeLessThanOrEqual(60);
    await expect.poll(async () => Number(await countdown.getAttribute("data-seconds-left"))).toBeLessThan(first);
    expect(await countdown.textContent()).toMatch(/^\d+ s left to answer$/);
    // Once for the new offer (the sign-in tap let the page vibrate).
    expect(await page.evaluate(() => (window as unknown as { vibrations: number }).vibrations)).toBe(1);
    await expectAccessible(page, "push-offer");

    await card.getByRole("button", { name: "Accept" }).click();
    await page.getByRole("heading", { name: "Conversation" }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/requests/${requestId}`);
    expect((await desk.client.call("GET", `/v1/requests/${requestId}`)).body).toMatchObject({ status: "assigned", advisor: { id: advisor.id } });

    await page.getByLabel("Message to your client").fill("Hello, I can help with your ISA.");
    await page.getByRole("button", { name: "Send" }).click();
    const messages = page.getByRole("log", { name: "Messages" });
    await messages.getByText("Hello, I can help with your ISA.").waitFor();
    const recorded = await desk.client.call("GET", `/v1/requests/${requestId}/messages`);
    expect(recorded.body.messages).toMatchObject([{ senderId: advisor.id, senderRole: "advisor", body: "Hello, I can help with your ISA." }]);

    const reply = await desk.client.call(
      "POST",
      `/v1/requests/${requestId}/messages`,
      { body: "Thanks! What are the fees?" },
      { "idempotency-key": "reply-1" },
    );
    expect(reply.status).toBe(201);
    await messages.getByText("Thanks! What are the fees?").waitFor({ timeout: 2_000 });
    expect(await messages.getByTestId("message").evaluateAll((items) => items.map((i) => i.getAttribute("data-sender-role")))).toEqual(["advisor", "client"]);
    await expectAccessible(page, "conversation");

    await page.getByRole("button", { name: "Complete" }).click();
    await page.getByTestId("conversation-ended").getByText("completed").waitFor();
    expect((await desk.client.call("GET", `/v1/requests/${requestId}`)).body.status).toBe("completed");
    expect(await page.getByLabel("Message to your client").count()).toBe(0);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("demand alerts: an advisor who is away sees a surge for their licence as it arrives", async () => {
    const desk = await makeDesk(1, { pool: "branch", mode: "dispatch", timeoutSeconds: 120, maxOffers: 3 }, { surgeThreshold: 1 });
    const advisor = desk.advisors[0]!;
    const { page } = await openPhone(desk, advisor.id);
    await page.getByRole("switch", { name: "Available for offers" }).click();
    await expect.poll(async () => (await desk.manager.call("GET", `/v1/advisors/${advisor.id}`)).body.live?.presence).toBe("away");
    await page.getByText("No surge right now.", { exact: false }).waitFor();

    // Nobody takes them (the one advisor is away): more waiting than the threshold of 1 is a surge.
    await createRequest(desk, "surge: first");
    await createRequest(desk, "surge: second");
    const alert = page.getByTestId("demand-alerts").getByRole("listitem");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Surge: [2-9] clients waiting for fund sales/);
    await expectAccessible(page, "demand-alert");
  });

  it("signs in from the demo advisor list, heartbeats while open, toggles presence, shows figures, signs out to offline, and out when the token expires", async () => {
    const { page, blocked } = await offlinePage(browser, server.baseUrl, PHONE);
    contexts.push(page.context());
    // The page's clock, so the heartbeat's interval can be skipped rather than waited for.
    await page.clock.install();
    await page.goto(`${server.baseUrl}/app/advisor/`);
    await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
    await page
      .getByRole("button", { name: /^Sign in as / })
      .first()
      .waitFor();
    await expectAccessible(page, "sign-in");

    // A demo advisor (not one of the other tests') whose name no one else on the list has.
    const users: Array<{ id: string; role: string; branchId: string; name: string }> = (await server.api.call("GET", "/v1/dev/users")).body.items;
    const demo = users.find((u) => u.role === "advisor" && u.branchId.startsWith("brn_demo_") && users.filter((o) => o.name === u.name).length === 1)!;
    await page.getByRole("button", { name: `Sign in as ${demo.name}`, exact: true }).click();
    await page.getByRole("heading", { name: "Your desk" }).waitFor();
    expect(await page.getByTestId("signed-in-as").getAttribute("data-sub")).toBe(demo.id);
    const toggle = page.getByRole("switch", { name: "Available for offers" });
    expect(await toggle.getAttribute("aria-checked")).toBe("true");
    await page.getByTestId("figures").getByText("Rank in your branch").waitFor();
    await connection(page, "live").waitFor();
    const manager = server.api.as(await server.api.devToken(`mgr_${demo.branchId.replace(/^brn_/, "")}`, "manager", demo.branchId));
    const presence = async () => (await manager.call("GET", `/v1/advisors/${demo.id}`)).body.live?.presence;
    await expect.poll(presence).toBe("available");

    // The heartbeat: the same presence again, by itself, within the 45 s presence TTL.
    const heartbeatAt = async () => (await manager.call("GET", `/v1/advisors/${demo.id}`)).body.live?.heartbeatAt;
    const before = await heartbeatAt();
    const beat = page.waitForRequest((r) => r.method() === "PUT" && r.url().endsWith("/v1/advisors/me/presence"));
    await page.clock.fastForward(HEARTBEAT_MS);
    expect((await beat).postDataJSON()).toEqual({ status: "available" });
    await expect.poll(heartbeatAt).not.toBe(before);

    await toggle.click();
    expect(await toggle.getAttribute("aria-checked")).toBe("false");
    await expect.poll(presence).toBe("away");
    await expectAccessible(page, "desk-away");
    await toggle.click();
    await expect.poll(presence).toBe("available");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
    await expect.poll(presence).toBe("offline");
    expect(await page.evaluate(() => localStorage.getItem("adx.advisor.token"))).toBeNull();

    // Signed in again, the app goes back to the sign-in screen when the (hour-long demo) token expires.
    await page.getByRole("button", { name: `Sign in as ${demo.name}`, exact: true }).click();
    await page.getByRole("heading", { name: "Your desk" }).waitFor();
    await page.clock.fastForward("01:00:01");
    await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
    expect(blocked).toEqual([]);
  });
});

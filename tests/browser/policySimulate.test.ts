/**
 * The policy editor's what-if in headless chromium against a real server on the demo data. Twenty
 * requests are written into Central's record yesterday, each offered to one advisor at once,
 * accepted after 3 s and handled for 90 s, with that advisor available since. The manager edits
 * the policy (offers open for 30 s), runs the simulation over the last 7 days and sees both
 * columns, text for text as the server's answer formatted by the editor's own rows, with nothing
 * saved; axe, the width at 1280 px and a screenshot. An edit that does not validate asks nothing.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../core/ids.ts";
import { type PolicySimulation, SIMULATION_ROWS } from "../../web/src/screens/policy/simulation.ts";
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
const REQUESTS = 20;

describe("policy editor: simulate before saving", () => {
  let server: ConsoleServer;
  let browser: Browser;
  let session: OfflinePage;
  let page: Page;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(), launchChromium()]);
    session = await offlinePage(browser, server.baseUrl);
    page = session.page;
    const client = await server.prisma.client.findFirstOrThrow({ where: { branchId: BRANCH } });
    const advisor = await server.prisma.advisor.findFirstOrThrow({
      where: { branchId: BRANCH, licences: { some: { kind: "fund_sales", status: "active" } } },
      orderBy: { id: "asc" },
    });
    const dayStart = Date.now() - 2 * 86_400_000;
    await server.prisma.advisorPresenceChange.create({
      data: { id: newId("presenceChange"), advisorId: advisor.id, branchId: BRANCH, presence: "available", at: new Date(dayStart) },
    });
    for (let i = 0; i < REQUESTS; i++) {
      const createdAt = new Date(dayStart + 3_600_000 + i * 600_000);
      const assignedAt = new Date(createdAt.getTime() + 3_000);
      const requestId = newId("request", createdAt.getTime());
      await server.prisma.serviceRequest.create({
        data: {
          id: requestId,
          clientId: client.id,
          branchId: BRANCH,
          topic: "what-if check",
          // What the advisor can serve: the demo's clients and advisors differ in language and risk.
          language: advisor.languages[0]!,
          riskLevel: 1,
          requiredLicence: "fund_sales",
          channel: "chat",
          status: "completed",
          stage: "branch",
          stageIndex: 1,
          assignedAdvisorId: advisor.id,
          createdAt,
          offeredAt: createdAt,
          assignedAt,
          completedAt: new Date(assignedAt.getTime() + 90_000),
        },
      });
      await server.prisma.offer.create({
        data: {
          id: newId("offer", createdAt.getTime()),
          requestId,
          advisorId: advisor.id,
          kind: "push",
          stage: "branch",
          stageIndex: 1,
          sentAt: createdAt,
          expiresAt: new Date(createdAt.getTime() + 20_000),
          outcome: "accepted",
          respondedAt: assignedAt,
          eligibility: {},
        },
      });
    }
    await signInFromList(page, server.baseUrl, "Central manager");
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("replays the last week under the edited policy and the stored one, shows both columns as the server answered, and saves nothing", async () => {
    await page.goto(`${server.baseUrl}/console/#/policy`);
    const versionText = page.getByTestId("policy-version");
    await versionText.waitFor();
    const before = await versionText.textContent();
    await page.getByLabel("Offer open for (seconds)").fill("30");
    const puts: string[] = [];
    page.on("request", (r) => r.method() === "PUT" && puts.push(r.url()));

    const answered = page.waitForResponse((r) => r.url().endsWith(`/v1/branches/${BRANCH}/dispatch-policy/simulate`) && r.request().method() === "POST");
    await page.getByTestId("simulate-policy").click();
    const response = await answered;
    expect(response.status()).toBe(200);
    const sent = response.request().postDataJSON() as { policy: { offerTtlSeconds: number }; from: string; to: string };
    expect(sent.policy.offerTtlSeconds).toBe(30);
    expect(Date.parse(sent.to) - Date.parse(sent.from)).toBe(7 * 86_400_000);
    const answer = (await response.json()) as PolicySimulation;
    expect(answer.window.requests).toBeGreaterThanOrEqual(REQUESTS);

    await page.getByTestId("simulation-result").waitFor();
    expect(await page.getByRole("columnheader").allTextContents()).toEqual(["Figure", `Stored policy (version ${answer.current.version})`, "Edited policy"]);
    for (const row of SIMULATION_ROWS) {
      expect(await page.getByTestId(`sim-current-${row.id}`).textContent(), row.id).toBe(row.value(answer.current.kpis));
      expect(await page.getByTestId(`sim-candidate-${row.id}`).textContent(), row.id).toBe(row.value(answer.candidate.kpis));
    }
    expect(await page.getByTestId("sim-current-created").textContent()).toBe(String(answer.window.requests));
    // The scripted requests: every one answered at the branch stage after the fitted 3 s, under both.
    for (const column of ["current", "candidate"]) {
      expect(await page.getByTestId(`sim-${column}-timeToAcceptMs-p50`).textContent()).toBe("3.0 s");
      expect(Number(await page.getByTestId(`sim-${column}-stage-branch`).textContent())).toBeGreaterThanOrEqual(REQUESTS);
    }
    expect(await page.getByTestId("simulation-cut").count()).toBe(answer.cutShort ? 1 : 0);
    expect(await versionText.textContent()).toBe(before);
    expect(puts).toEqual([]);

    await page.setViewportSize({ width: 1280, height: 900 });
    // Nothing wider than the window at 1280 px.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    await page.getByTestId("simulation-result").scrollIntoViewIfNeeded();
    await screenshot(page, "policy-simulation");
    expect(await seriousViolations(page)).toEqual([]);
    expect(session.blocked).toEqual([]);
  }, 120_000);

  it("asks nothing of the server while the edited policy does not validate", async () => {
    const posts: string[] = [];
    page.on("request", (r) => r.url().includes("/dispatch-policy/simulate") && posts.push(r.url()));
    await page.getByLabel("Offer open for (seconds)").fill("2");
    await page.getByTestId("simulate-policy").click();
    await page.locator('[data-field-error="offerTtlSeconds"]').waitFor();
    expect(posts).toEqual([]);
  });
});

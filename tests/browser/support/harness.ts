/**
 * The browser harness: a real server on the embedded default (PGlite in a temporary directory, the
 * in-memory matching store, demo data, DEV_AUTH), Debian's chromium driven by playwright-core, and
 * pages that may only reach that server: every other request is aborted and recorded, so a test can
 * show the page needed nothing from a CDN. Screenshots go to test-artifacts/ (git-ignored).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startServer, type RunningServer } from "../../../app/server.ts";
import { loadConfig } from "../../../core/config.ts";
import { createLogger } from "../../../core/logger.ts";
import type { PrismaClient } from "../../../platform/database.ts";
import { ApiClient } from "../../support/apiClient.ts";

const ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
export const ARTIFACTS = path.join(ROOT, "test-artifacts");
/** Debian's chromium (`apt-get install -y chromium`); browser builds are never downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

export interface ConsoleServer {
  baseUrl: string;
  api: ApiClient;
  /** The server's own database client (RunningServer.prisma), for what only a job does, e.g. settling a period. */
  prisma: PrismaClient;
  stop(): Promise<void>;
}

export async function startConsoleServer(): Promise<ConsoleServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "adx-browser-"));
  // The embedded default, as `npm start` runs it: only the port, the data folder and the log differ.
  const config = loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent" });
  let server: RunningServer;
  try {
    server = await startServer(config, createLogger("silent"));
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const baseUrl = `http://127.0.0.1:${server.port}`;
  return {
    baseUrl,
    api: new ApiClient(baseUrl),
    prisma: server.prisma,
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

export interface OfflinePage {
  page: Page;
  /** Requests the page tried to make to anywhere but the server under test (all aborted). */
  blocked: string[];
  /** Uncaught errors and console errors, for a failing test's message. */
  errors: string[];
}

/** The advisor and client apps' design size: a phone, with touch. */
export const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } as const;
const DESKTOP = { viewport: { width: 1280, height: 900 } } as const;

/**
 * A fresh context whose page can reach only `baseUrl` (a desktop unless `device` says otherwise).
 * Requests a service worker makes itself are not seen by page.route (Playwright's rule), so a page
 * under a service worker is still held to the server by the worker's own code, not by this route.
 */
export async function offlinePage(browser: Browser, baseUrl: string, device: typeof PHONE | typeof DESKTOP = DESKTOP): Promise<OfflinePage> {
  const context = await browser.newContext({ ...device });
  const page = await context.newPage();
  const origin = new URL(baseUrl).origin;
  const blocked: string[] = [];
  const errors: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    blocked.push(url);
    return route.abort("internetdisconnected");
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return { page, blocked, errors };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n: any) => String(n.target)) }));
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** Opens the console and signs in as the demo user whose button names `name`, through the dev sign-in list. */
export async function signInFromList(page: Page, baseUrl: string, name: string): Promise<void> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByRole("button", { name: `Sign in as ${name}` }).click();
  await page.getByTestId("signed-in-as").waitFor();
}

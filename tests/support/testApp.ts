/**
 * In-process test apps for route groups: mount only the routers under test behind the real
 * authentication, request id and error handler, and call them with `app.request(...)`. Backends are
 * embedded PGlite in a temporary directory plus the in-memory matching store, so a suite needs no
 * services and leaves nothing behind.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { authenticate } from "../../api/auth/middleware.ts";
import { issueToken, tokenRules, type Principal } from "../../api/auth/principal.ts";
import type { AppDeps, AppEnv } from "../../api/context.ts";
import { createOnError, errorResponse } from "../../api/errors.ts";
import type { Metrics } from "../../api/metrics.ts";
import type { RateLimiter } from "../../platform/rateLimit/port.ts";
import { requireUtf8Bodies } from "../../api/utf8Bodies.ts";
import type { Clock } from "../../core/clock.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { openBackends } from "../../platform/backends.ts";
import { createMatchingRuntime } from "../../app/matching.ts";

export interface TestDeps {
  deps: AppDeps;
  /** Stops the matching runtime, closes the database and removes the temporary directory. */
  close(): Promise<void>;
}

/** Never refuses: route tests are not about rate limits (those have their own suite). */
export const unlimited: RateLimiter = { take: async () => ({ ok: true, remaining: Number.MAX_SAFE_INTEGER }) };

export const noMetrics: Metrics = { observeHttp: () => {}, render: async () => "" };

/**
 * Fresh embedded backends and a matching runtime (sweeper not started: tests drive the engine).
 * `clock`: the runtime's clock (default the system's), e.g. a ManualClock a test moves by hand.
 */
export async function openTestDeps(prefix = "adx-test-", options: { clock?: Clock } = {}): Promise<TestDeps> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" });
  const logger = createLogger("silent");
  const backends = await openBackends(config, logger);
  try {
    const matching = await createMatchingRuntime(backends, logger, { clock: options.clock });
    return {
      deps: { config, logger, backends, matching, limiter: unlimited, metrics: noMetrics },
      async close() {
        await matching.stop();
        await backends.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await backends.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** An app serving `routers` the way the real one does: request ids, auth on /v1/*, one error shape. */
export function createTestApp(deps: Pick<AppDeps, "config" | "logger">, ...routers: OpenAPIHono<AppEnv>[]) {
  const app = new OpenAPIHono<AppEnv>();
  app.use("*", requestId());
  app.use("/v1/*", authenticate(tokenRules(deps.config)));
  app.use("*", requireUtf8Bodies());
  for (const router of routers) app.route("/", router);
  app.doc31("/openapi.json", { openapi: "3.1.0", info: { title: "test", version: "1" } });
  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError(createOnError(deps.logger));
  return app;
}

/** Request headers carrying a token for `principal` (and a JSON content type). */
export async function authHeaders(principal: Principal, secret: string): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await issueToken(principal, secret)}`, "content-type": "application/json" };
}

/** The one error shape, as tests read it. */
export interface ErrorJson {
  error: { code: string; message: string; requestId: string; details?: Array<{ path: string; message: string }> };
}

/** A request to an in-process app as `principal` (null: without a token), with a JSON body. */
export async function callApp(
  app: ReturnType<typeof createTestApp>,
  secret: string,
  method: string,
  path: string,
  principal: Principal | null,
  body?: unknown,
): Promise<Response> {
  const headers = principal ? await authHeaders(principal, secret) : { "content-type": "application/json" };
  return app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

export const errorOf = async (res: Response) => ((await res.json()) as ErrorJson).error;
export const idOf = async (res: Response) => ((await res.json()) as { id: string }).id;

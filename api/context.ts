/** Types shared by the app and its route groups. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/logger.ts";
import type { Backends } from "../platform/backends.ts";
import type { MatchingRuntime } from "../matching/runtime.ts";
import type { PolicyReplay } from "../reporting/policyReplay.ts";
import type { Principal } from "./auth/principal.ts";
import type { AdvisorStanding } from "./auth/standing.ts";
import { validationHook } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import type { RateLimiter } from "../platform/rateLimit/port.ts";
import type { Fanout } from "./realtime/fanout.ts";

export interface AppEnv {
  Variables: { requestId: string; principal?: Principal };
}

/** What route groups may use; built once at start by the composition root. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  backends: Backends;
  matching: MatchingRuntime;
  limiter: RateLimiter;
  metrics: Metrics;
  /** Realtime delivery to users on any process; absent in route tests (nothing is delivered). */
  fanout?: Fanout;
  /** Offboarded-advisor checks with a short memory; absent in route tests (every call reads the directory). */
  standing?: AdvisorStanding;
  /** The policy what-if's replay (simulation/replay.ts, wired by app/); absent: the route answers 503. */
  policyReplay?: PolicyReplay;
}

/** Every route group is an OpenAPIHono sharing the one zod hook. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });
}

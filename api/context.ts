/** Types shared by the app and its route groups. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/logger.ts";
import type { Backends } from "../infra/backends.ts";
import { validationHook } from "./errors.ts";

export interface AppEnv {
  Variables: { requestId: string };
}

/** What route groups may use; built once at start by the composition root. */
export interface AppDeps {
  config: Config;
  logger: Logger;
  backends: Backends;
}

/** Every route group is an OpenAPIHono sharing the one zod hook. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook as never });
}

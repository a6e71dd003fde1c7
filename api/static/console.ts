/**
 * The manager console (web/, built by Vite into web/dist) at /console: hashed assets under
 * /console/assets/ with a year-long immutable cache, every other path inside /console answered with
 * index.html (no-cache), so a deep link or a reload lands in the app, which routes it itself. These
 * paths are outside /v1 and need no token: the app signs in through the API.
 */
import path from "node:path";
import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context.ts";
import { errorResponse } from "../errors.ts";
import { fileResponse, IMMUTABLE, NO_CACHE, resolveInside } from "./files.ts";

export const CONSOLE_DIST = path.resolve(import.meta.dirname, "..", "..", "web", "dist");
const PREFIX = "/console/";

async function serveConsole(c: Context<AppEnv>, root: string): Promise<Response> {
  const rest = c.req.path.slice(PREFIX.length);
  const index = path.join(root, "index.html");
  if (rest.startsWith("assets/")) {
    const file = resolveInside(root, rest);
    const found = file === null ? null : await fileResponse(file, IMMUTABLE);
    // A missing script must be a 404, not the HTML page: the browser would try to run it.
    return found ?? errorResponse(c, "NOT_FOUND", `no console asset ${rest}`);
  }
  const file = rest ? resolveInside(root, rest) : null;
  const found = (file !== null && file !== index ? await fileResponse(file, NO_CACHE) : null) ?? (await fileResponse(index, NO_CACHE));
  return found ?? errorResponse(c, "NOT_FOUND", "the console is not built: run `npm run build:web`");
}

/** Mounts /console, /console/* and the redirect of / to the console. */
export function mountConsole(app: OpenAPIHono<AppEnv>, root: string = CONSOLE_DIST): void {
  app.get("/", (c) => c.redirect(PREFIX, 302));
  app.get("/console", (c) => c.redirect(PREFIX, 301));
  app.get("/console/*", (c) => serveConsole(c, root));
}

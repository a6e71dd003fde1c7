/**
 * The web apps (web/, built by Vite into web/dist) from local files: the manager console at
 * /console, the advisor app at /app/advisor and the client app at /app/client. Their hashed assets
 * are shared under /assets/ with a year-long immutable cache; inside an app's prefix a file of its
 * own folder (the advisor app's service worker and manifest) is served no-cache, and every other
 * path is answered with the app's index.html (no-cache), so a deep link or a reload lands in the
 * app, which routes it itself. These paths are outside /v1 and need no token: the apps sign in
 * through the API.
 */
import path from "node:path";
import type { Context } from "hono";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context.ts";
import { errorResponse } from "../errors.ts";
import { fileResponse, IMMUTABLE, NO_CACHE, resolveInside } from "./files.ts";

export const WEB_DIST = path.resolve(import.meta.dirname, "..", "..", "web", "dist");

/** Each app: the URL prefix it answers under, and its folder inside the build. */
export const WEB_APPS = [
  { prefix: "/console/", folder: "" },
  { prefix: "/app/advisor/", folder: "app/advisor" },
  { prefix: "/app/client/", folder: "app/client" },
] as const;

const NOT_BUILT = "the web apps are not built: run `npm run build:web`";

async function serveAsset(c: Context<AppEnv>, root: string): Promise<Response> {
  const rest = c.req.path.slice("/assets/".length);
  const file = resolveInside(path.join(root, "assets"), rest);
  const found = file === null ? null : await fileResponse(file, IMMUTABLE);
  // A missing script must be a 404, not an HTML page: the browser would try to run it.
  return found ?? errorResponse(c, "NOT_FOUND", `no web asset ${rest}`);
}

async function serveApp(c: Context<AppEnv>, root: string, prefix: string): Promise<Response> {
  const rest = c.req.path.slice(prefix.length);
  const index = path.join(root, "index.html");
  // A file of the app's own folder; never another app's (the console's folder is the build's root).
  const file = rest && !rest.startsWith("app/") ? resolveInside(root, rest) : null;
  const found = (file !== null && file !== index ? await fileResponse(file, NO_CACHE) : null) ?? (await fileResponse(index, NO_CACHE));
  return found ?? errorResponse(c, "NOT_FOUND", NOT_BUILT);
}

/** Mounts /assets/*, each app's prefix, the redirects of a prefix without its slash, and of / to the console. */
export function mountWebApps(app: OpenAPIHono<AppEnv>, dist: string = WEB_DIST): void {
  app.get("/", (c) => c.redirect("/console/", 302));
  app.get("/assets/*", (c) => serveAsset(c, dist));
  for (const { prefix, folder } of WEB_APPS) {
    const root = path.join(dist, folder);
    app.get(prefix.slice(0, -1), (c) => c.redirect(prefix, 301));
    app.get(`${prefix}*`, (c) => serveApp(c, root, prefix));
  }
}

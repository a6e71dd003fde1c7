/**
 * `/docs`: Swagger UI for /openapi.json, served from the swagger-ui-dist package on disk so the page
 * works with no network (the CDN build it replaced showed a blank page offline). The page and its
 * start-up script are ours; the bundle, preset and stylesheet are the package's files.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context.ts";
import { errorResponse } from "../errors.ts";
import { fileResponse } from "./files.ts";

const SWAGGER_DIR = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
/** The package's files the page loads; nothing else in the folder is served. */
const ASSETS = new Set(["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png"]);
/** Not content-hashed, but versioned with the package: an hour is plenty. */
const ASSET_CACHE = "public, max-age=3600";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>advisor-dispatch API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui"></main>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// A file rather than an inline script, so a Content-Security-Policy without 'unsafe-inline' can serve it.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "BaseLayout",
});
`;

export function mountDocs(app: OpenAPIHono<AppEnv>): void {
  app.get("/docs", (c) => {
    c.header("cache-control", "no-cache");
    return c.html(PAGE);
  });
  app.get("/docs/init.js", (c) => c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }));
  app.get("/docs/:file", async (c) => {
    const name = c.req.param("file");
    const found = ASSETS.has(name) ? await fileResponse(path.join(SWAGGER_DIR, name), ASSET_CACHE) : null;
    return found ?? errorResponse(c, "NOT_FOUND", `no docs file ${name}`);
  });
}

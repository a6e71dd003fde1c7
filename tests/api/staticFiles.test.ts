/**
 * The console and /docs as files from disk: cache headers (hashed assets immutable, index.html
 * no-cache), the SPA fallback, paths that try to leave the folder, and Swagger UI's files served
 * from swagger-ui-dist rather than a CDN. In-process, on a console build made up for the test.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mountWebApps } from "../../api/static/webApps.ts";
import { mountDocs } from "../../api/static/docs.ts";
import { createRouter } from "../../api/context.ts";

const dist = fs.mkdtempSync(path.join(os.tmpdir(), "adx-console-"));
fs.mkdirSync(path.join(dist, "assets"));
fs.writeFileSync(path.join(dist, "index.html"), "<!doctype html><title>console</title>");
fs.writeFileSync(path.join(dist, "assets", "index-abc123.js"), "console.log(1)");
fs.writeFileSync(path.join(dist, "robots.txt"), "User-agent: *");
fs.mkdirSync(path.join(dist, "app", "advisor"), { recursive: true });
fs.writeFileSync(path.join(dist, "app", "advisor", "index.html"), "<!doctype html><title>advisor</title>");
fs.writeFileSync(path.join(dist, "app", "advisor", "manifest.webmanifest"), '{"name":"advisor"}');
// A file beside the build that must never be served through it.
fs.writeFileSync(path.join(path.dirname(dist), `${path.basename(dist)}-outside.txt`), "CONTENT-OUTSIDE-THE-BUILD");

const app = createRouter();
mountDocs(app);
mountWebApps(app, dist);

afterAll(() => {
  fs.rmSync(dist, { recursive: true, force: true });
  fs.rmSync(path.join(path.dirname(dist), `${path.basename(dist)}-outside.txt`), { force: true });
});

describe("the console's files", () => {
  it("sends / and /console to /console/", async () => {
    expect((await app.request("/")).headers.get("location")).toBe("/console/");
    expect((await app.request("/console")).headers.get("location")).toBe("/console/");
  });

  it("serves index.html with no-cache, and hashed assets with a year-long immutable cache", async () => {
    const index = await app.request("/console/");
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await index.text()).toContain("<title>console</title>");
    const asset = await app.request("/assets/index-abc123.js");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await asset.text()).toBe("console.log(1)");
    expect((await app.request("/console/robots.txt")).headers.get("cache-control")).toBe("no-cache");
  });

  it("answers any other path inside /console with index.html, but a missing asset with a 404", async () => {
    for (const deep of ["/console/board", "/console/policy/brn_1", "/console/nope.html"]) {
      const res = await app.request(deep);
      expect(res.status, deep).toBe(200);
      expect(await res.text()).toContain("<title>console</title>");
    }
    const missing = await app.request("/assets/gone-123.js");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
  });

  it("never serves a file outside the build, however the path is spelled", async () => {
    const name = `${path.basename(dist)}-outside.txt`;
    for (const attempt of [`/console/..%2f${name}`, `/assets/..%2f..%2f${name}`, `/console/%2e%2e/${name}`, "/assets/%00.js"]) {
      const res = await app.request(attempt);
      expect(await res.text(), attempt).not.toContain("CONTENT-OUTSIDE-THE-BUILD");
    }
  });

  it("serves each app under its own prefix: its index.html for deep paths, its own files no-cache, never another app's", async () => {
    for (const deep of ["/app/advisor/", "/app/advisor/offers/off_1"]) {
      const res = await app.request(deep);
      expect(res.status, deep).toBe(200);
      expect(await res.text(), deep).toContain("<title>advisor</title>");
    }
    expect((await app.request("/app/advisor")).headers.get("location")).toBe("/app/advisor/");
    const manifest = await app.request("/app/advisor/manifest.webmanifest");
    expect(manifest.headers.get("content-type")).toBe("application/manifest+json; charset=utf-8");
    expect(manifest.headers.get("cache-control")).toBe("no-cache");
    // The console's folder is the build's root: the apps' folders inside it are not the console's files.
    expect(await (await app.request("/console/app/advisor/manifest.webmanifest")).text()).toContain("<title>console</title>");
    // The client app is not in this made-up build: its index is missing, and it says so.
    expect((await app.request("/app/client/")).status).toBe(404);
  });

  it("says how to build the console when there is no build", async () => {
    const bare = createRouter();
    mountWebApps(bare, path.join(dist, "not-built"));
    const res = await bare.request("/console/");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("npm run build:web");
  });
});

describe("/docs", () => {
  it("is our page loading Swagger UI from this server, pointed at /openapi.json", async () => {
    const page = await (await app.request("/docs")).text();
    expect(page).toContain('<script src="/docs/swagger-ui-bundle.js"></script>');
    expect(page).not.toMatch(/https?:\/\//);
    expect(await (await app.request("/docs/init.js")).text()).toContain('url: "/openapi.json"');
  });

  it("serves swagger-ui-dist's bundle, preset and stylesheet, and nothing else of the package", async () => {
    for (const file of ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"]) {
      const res = await app.request(`/docs/${file}`);
      expect(res.status, file).toBe(200);
      expect((await res.arrayBuffer()).byteLength, file).toBeGreaterThan(1000);
    }
    expect((await app.request("/docs/package.json")).status).toBe(404);
    expect((await app.request("/docs/..%2fpackage.json")).status).toBe(404);
  });
});

/**
 * Builds the web apps (web/ into web/dist) when it is missing, or with `--if-stale` also when
 * a source is newer than the build. `npm start` runs it first (prestart), so a fresh checkout serves
 * /console without a separate step; the browser tests run it with --if-stale. The build goes to a
 * folder of its own and is renamed into place, so a server never reads half a build.
 */
import { existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(import.meta.dirname, "..");
const WEB = path.join(ROOT, "web");
export const WEB_DIST = path.join(WEB, "dist");
/** What the bundle is made of, besides web/src: the policy schema is shared with the API. */
const INPUTS = [
  path.join(WEB, "src"),
  path.join(WEB, "index.html"),
  path.join(WEB, "app"),
  path.join(WEB, "public"),
  path.join(WEB, "vite.config.ts"),
  path.join(ROOT, "matching", "domain", "policy.ts"),
];

function newestMtime(entry: string): number {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(entry).reduce((newest, name) => Math.max(newest, newestMtime(path.join(entry, name))), stats.mtimeMs);
}

export function webBuildState(): "missing" | "stale" | "fresh" {
  const index = path.join(WEB_DIST, "index.html");
  if (!existsSync(index)) return "missing";
  const built = statSync(index).mtimeMs;
  return INPUTS.some((input) => existsSync(input) && newestMtime(input) > built) ? "stale" : "fresh";
}

/** Builds when needed; returns what it found. */
export async function ensureWebBuild(options: { ifStale?: boolean } = {}): Promise<"missing" | "stale" | "fresh"> {
  const state = webBuildState();
  if (state === "fresh" || (state === "stale" && !options.ifStale)) return state;
  const { build } = await import("vite");
  const outDir = path.join(WEB, `.dist-${process.pid}`);
  // React's production build whatever the caller's NODE_ENV (vitest sets "test", which would bundle
  // the development build: bigger, slower, and with StrictMode's double effects).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({ configFile: path.join(WEB, "vite.config.ts"), mode: "production", logLevel: "warn", build: { outDir, emptyOutDir: true } });
    rmSync(WEB_DIST, { recursive: true, force: true });
    renameSync(outDir, WEB_DIST);
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
    rmSync(outDir, { recursive: true, force: true });
  }
  return state;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const state = await ensureWebBuild({ ifStale: process.argv.includes("--if-stale") });
  if (state !== "fresh") console.log(`console ${state === "missing" ? "built" : "rebuilt"} into web/dist`);
}

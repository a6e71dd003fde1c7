/**
 * Serving files from a local folder: the web apps' build and Swagger UI's assets. Nothing here
 * reaches the network; a path that resolves outside its folder (`..`, an encoded slash trick) is
 * treated as missing rather than read.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** For files whose names carry a content hash: they never change under their name. */
export const IMMUTABLE = "public, max-age=31536000, immutable";
/** For entry points (index.html): always revalidate, so a new build is picked up at once. */
export const NO_CACHE = "no-cache";

/** The absolute path of `relative` inside `root`, or null when it would leave the folder. */
export function resolveInside(root: string, relative: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const full = path.resolve(root, `.${path.posix.sep}${decoded}`);
  return full === root || full.startsWith(root + path.sep) ? full : null;
}

/** A 200 with the file's bytes, or null when there is no such regular file. */
export async function fileResponse(file: string, cacheControl: string): Promise<Response | null> {
  try {
    if (!(await stat(file)).isFile()) return null;
    const body = await readFile(file);
    const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
    return new Response(body, { status: 200, headers: { "content-type": type, "cache-control": cacheControl, "x-content-type-options": "nosniff" } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw error;
  }
}

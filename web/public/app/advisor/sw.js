/**
 * The advisor app's service worker (scope /app/advisor/): caches the app shell so the installed app
 * opens with no network. On install it reads /app/advisor/ and caches that page with the /assets/
 * it names (content-hashed, so they never change under their name), the icons and the manifest.
 * Navigations go to the network first (a new build shows at once) and fall back to the cached shell;
 * /assets/ come from the cache first. The API (/v1) is never cached: offers, chats and presence are
 * live or nothing. A new CACHE name replaces the old caches when the new worker activates.
 */
const CACHE = "advisor-shell-v1";
const CACHE_PREFIX = "advisor-shell-";
const SHELL = "/app/advisor/";
const STATIC = ["/app/advisor/manifest.webmanifest", "/app/advisor/icon.svg", "/app/advisor/icon-192.png", "/app/advisor/icon-512.png"];

/** The /assets/ URLs a page names (its script, preloaded chunks, stylesheets). */
function assetsOf(html) {
  return [...new Set(html.match(/\/assets\/[^"'\s>]+/g) ?? [])];
}

async function precache() {
  const cache = await caches.open(CACHE);
  const page = await fetch(SHELL, { cache: "reload" });
  if (!page.ok) throw new Error(`the app shell answered ${page.status}`);
  const assets = assetsOf(await page.clone().text());
  await cache.addAll([...assets, ...STATIC]);
  await cache.put(SHELL, page);
}

async function dropOldCaches() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)));
  await self.clients.claim();
}

/** Network first; a good page refreshes the cached shell; no network, the cached shell (every path here is the same page). */
async function navigation(request) {
  try {
    const response = await fetch(request);
    if (response.ok && (response.headers.get("content-type") ?? "").startsWith("text/html")) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(SHELL, copy));
    }
    return response;
  } catch (error) {
    const shell = await caches.match(SHELL, { cacheName: CACHE });
    if (shell) return shell;
    throw error;
  }
}

/** Cache first; a miss is fetched and kept (a hashed name never changes meaning). */
async function asset(request) {
  const cached = await caches.match(request, { cacheName: CACHE });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

/** The app's own files (icons, manifest): the network, or the cached copy without one. */
async function ownFile(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const cached = await caches.match(request, { cacheName: CACHE });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOldCaches());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Other origins, writes and the API: straight to the network, as if there were no worker.
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/v1/")) return;
  if (request.mode === "navigate" && url.pathname.startsWith(SHELL)) event.respondWith(navigation(request));
  else if (url.pathname.startsWith("/assets/")) event.respondWith(asset(request));
  else if (url.pathname.startsWith(SHELL)) event.respondWith(ownFile(request));
});

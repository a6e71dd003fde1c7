/**
 * Registers the advisor app's service worker (web/public/app/advisor/sw.js, served as it is), which
 * caches the app shell so the installed app opens without a network. A browser without service
 * workers, or one that refuses (a private window, plain http on a non-local host), runs the app the
 * same, only not offline.
 */
export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/app/advisor/sw.js", { scope: "/app/advisor/" }).catch((error: unknown) => {
      console.warn("the advisor app's service worker was not registered:", error);
    });
  });
}

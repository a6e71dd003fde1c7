/**
 * Hash routing (#/board, #/policy): the server only ever serves index.html, and a reload keeps the
 * screen. Hashes that do not start with "#/" (the skip link's #main) are not routes: the screen stays.
 */
import { useSyncExternalStore } from "react";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

let lastRoute = "";

function currentPath(): string {
  if (window.location.hash.startsWith("#/")) lastRoute = window.location.hash.slice(1);
  return lastRoute;
}

/** The current route's path ("/board"), or "" when the hash names none. */
export function useRoute(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

export const hrefOf = (path: string) => `#${path}`;

export function navigate(path: string): void {
  window.location.hash = path;
}

/**
 * The web apps' build: `npm run build:web` writes web/dist, which the server serves
 * (api/static/webApps.ts): the manager console (index.html) at /console, the advisor app
 * (app/advisor/index.html) at /app/advisor and the client app (app/client/index.html) at
 * /app/client. Their assets are shared under /assets/, named by content hash, so they are cached for
 * good. Files in web/public (the advisor app's manifest, service worker and icons) are copied as they are.
 */
import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: "/",
  plugins: [react()],
  // The policy schema is shared with the API (matching/domain/policy.ts), one folder up.
  server: { fs: { allow: [path.resolve(here, "..")] } },
  build: {
    outDir: path.join(here, "dist"),
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: {
        console: path.join(here, "index.html"),
        advisor: path.join(here, "app", "advisor", "index.html"),
        client: path.join(here, "app", "client", "index.html"),
      },
    },
  },
});

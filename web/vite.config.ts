/**
 * The manager console's build: `npm run build:web` writes web/dist, which the server serves at
 * /console (api/static/console.ts). Asset names carry content hashes, so they are cached for good.
 */
import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: "/console/",
  plugins: [react()],
  // The policy schema is shared with the API (matching/domain/policy.ts), one folder up.
  server: { fs: { allow: [path.resolve(here, "..")] } },
  build: { outDir: path.join(here, "dist"), emptyOutDir: true, sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 1500 },
});

/**
 * The layers, and the one direction imports may point (ARCHITECTURE.md):
 *
 *   core  <-  platform  <-  domains (matching, incentives, compliance, directory, reporting)  <-  app, api
 *
 * core: plain building blocks (config, ids, clock, errors). platform: clients of the world outside
 * (PostgreSQL, Redis, ports to listen on, rate-limit windows) and the migration tools they run.
 * domains: the business, on ports. app: the composition root (wiring, jobs, the server entry).
 * api: the HTTP and socket surface, which calls domain functions and never touches Prisma itself.
 * web/ (the console, bundled for the browser) may use only web/, its packages, and the pure schema
 * modules it shares with the API so that a form validates by the API's own rules.
 * Checked in CI by `npm run check:deps`; tests/architecture.test.ts shows a broken rule fails it.
 */
const DOMAINS = "^(matching|incentives|compliance|directory|reporting)/";
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one; split what they share out. Cycles of type-only imports are erased by the compiler and allowed.",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "core-is-the-bottom",
      severity: "error",
      comment: "core/ depends on nothing of ours.",
      from: { path: "^core/" },
      to: { path: "^(platform|app|api|matching|incentives|compliance|directory|reporting|prisma)/" },
    },
    {
      name: "platform-below-domains",
      severity: "error",
      comment: "platform/ serves the domains and knows none of them.",
      from: { path: "^platform/" },
      to: { path: `${DOMAINS}|^(app|api)/|^prisma/seed/` },
    },
    {
      name: "domains-below-app-and-api",
      severity: "error",
      comment: "A domain never reaches up into the wiring or the HTTP surface.",
      from: { path: DOMAINS },
      to: { path: "^(app|api)/|^prisma/seed/" },
    },
    {
      name: "simulation-is-a-tool",
      severity: "error",
      comment:
        "The day simulator (simulation/) drives the domains from outside, as app/ does: only app/ (its CLI) imports it, and it imports neither app/ nor api/.",
      from: { path: "^(core|platform|matching|incentives|compliance|directory|reporting|api|prisma)/" },
      to: { path: "^simulation/" },
    },
    {
      name: "simulation-below-app-and-api",
      severity: "error",
      comment: "The simulator drives the engine directly, never through the wiring or the HTTP surface.",
      from: { path: "^simulation/" },
      to: { path: "^(app|api)/" },
    },
    {
      name: "api-not-into-app",
      severity: "error",
      comment: "The API is wired by app/; it does not import the wiring back.",
      from: { path: "^api/" },
      to: { path: "^app/" },
    },
    {
      name: "no-prisma-in-api",
      severity: "error",
      comment: "Routes call domain functions; the database client and its models stay below the API.",
      from: { path: "^api/" },
      to: { path: "^generated/prisma/|^platform/database\\.ts$|^node_modules/(@prisma|prisma)/" },
    },
    {
      name: "web-uses-only-shared-schemas",
      severity: "error",
      comment: "The console runs in a browser: of the server's code it may import only the pure zod schemas it shares with the API.",
      from: { path: "^web/" },
      to: { pathNot: "^(web/|node_modules/|matching/domain/(policy|types)\\.ts$|incentives/rules/schema\\.ts$)" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|generated/prisma/internal|bench/tmp)" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".tsx", ".js", ".mjs"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

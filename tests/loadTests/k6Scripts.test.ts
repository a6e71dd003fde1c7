/**
 * The k6 scripts in load-tests/ cannot run here (k6 is a Go binary, not an npm package), so this
 * checks what can go wrong before a user runs them: each file parses as an ES module, imports only
 * k6's own modules or load-tests/lib files that exist (k6 has no Node built-ins and no node_modules),
 * and each scenario script, once evaluated with stand-ins for k6's modules (k6Harness.mjs), exports
 * options whose scenarios call exported functions and whose thresholds name real metrics (k6
 * refuses to start on a threshold for a metric that does not exist).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const loadTests = path.join(root, "load-tests");
const lib = path.join(loadTests, "lib");
const harness = path.join(import.meta.dirname, "k6Harness.mjs");

const jsFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".js"))
    .sort()
    .map((f) => path.join(dir, f));
const scripts = jsFiles(loadTests);
const libFiles = fs.existsSync(lib) ? jsFiles(lib) : [];

/** The k6 modules a script may import (k6 v0.5x to v1.x; extensions need a custom binary). */
const K6_MODULES = new Set(["k6", "k6/http", "k6/ws", "k6/websockets", "k6/experimental/websockets", "k6/metrics", "k6/execution", "k6/data", "k6/timers"]);
const EXECUTORS = new Set([
  "shared-iterations",
  "per-vu-iterations",
  "constant-vus",
  "ramping-vus",
  "constant-arrival-rate",
  "ramping-arrival-rate",
  "externally-controlled",
]);

interface Inspection {
  imports: Array<{ from: string; specifier: string }>;
  exports: Record<string, string>;
  options: { scenarios?: Record<string, { executor: string; exec?: string }>; thresholds?: Record<string, unknown[]> } | null;
  metrics: Array<{ type: string; name: string }>;
  builtinMetrics: string[];
}

function inspect(file: string): Inspection {
  const run = spawnSync(process.execPath, ["--experimental-vm-modules", "--no-warnings", harness, file], { cwd: root, encoding: "utf8", timeout: 30_000 });
  if (run.status !== 0) throw new Error(`${path.relative(root, file)} failed to load as k6 would: ${run.stderr}`);
  return JSON.parse(run.stdout) as Inspection;
}

const rel = (file: string) => path.relative(root, file);

describe("k6 load-test scripts", () => {
  it("has the three scenario scripts", () => {
    expect(scripts.map((f) => path.basename(f))).toEqual(expect.arrayContaining(["dispatch-flow.js", "grab-storm.js", "soak.js"]));
  });

  it.each([...scripts, ...libFiles].map((f) => [rel(f), f]))("%s parses as an ES module and imports only k6 modules and existing lib files", (_name, file) => {
    const check = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);

    for (const { from, specifier } of inspect(file).imports) {
      const importer = path.join(root, from);
      if (K6_MODULES.has(specifier)) continue;
      // Anything else must be a relative path into load-tests/lib (from a script: ./lib/x.js).
      expect(specifier, `${from} imports ${specifier}`).toMatch(/^\.\.?\//);
      const target = path.resolve(path.dirname(importer), specifier);
      expect(path.dirname(target), `${from} imports ${specifier}, outside load-tests/lib`).toBe(lib);
      expect(fs.existsSync(target), `${from} imports ${specifier}, which does not exist`).toBe(true);
    }
  });

  it.each(scripts.map((f) => [rel(f), f]))("%s exports options with scenarios that run exported functions, and thresholds on real metrics", (_name, file) => {
    const { exports, options, metrics, builtinMetrics } = inspect(file);
    expect(options, "export const options").not.toBeNull();
    const scenarios = Object.entries(options!.scenarios ?? {});
    const functions = scenarios.length ? scenarios.map(([, s]) => s.exec ?? "default") : ["default"];
    for (const [name, scenario] of scenarios) expect(EXECUTORS.has(scenario.executor), `scenario ${name}: executor ${scenario.executor}`).toBe(true);
    for (const fn of functions) expect(exports[fn], `exported function ${fn}`).toBe("function");

    const thresholds = Object.entries(options!.thresholds ?? {});
    expect(thresholds.length).toBeGreaterThan(0);
    const known = new Set([...builtinMetrics, ...metrics.map((m) => m.name)]);
    for (const [key, rules] of thresholds) {
      const metric = key.replace(/\{.*\}$/, "");
      expect(known.has(metric), `threshold ${key} names no metric the script creates or k6 has`).toBe(true);
      expect(rules.length, `threshold ${key}`).toBeGreaterThan(0);
      // A submetric selector must be plain `tag:value` pairs; k6 cannot parse colons or braces in values.
      const selector = /\{(.*)\}$/.exec(key)?.[1];
      if (selector) for (const pair of selector.split(",")) expect(pair, `threshold ${key}`).toMatch(/^[\w.-]+:[^:{}]+$/);
    }
  });

  it("runs the executors each scenario calls for", () => {
    const executors = (name: string) => Object.values(inspect(path.join(loadTests, name)).options!.scenarios!).map((s) => s.executor);
    expect(executors("dispatch-flow.js")).toContain("constant-arrival-rate");
    expect(executors("soak.js")).toContain("constant-arrival-rate");
    expect(executors("grab-storm.js").every((e) => e === "per-vu-iterations" || e === "shared-iterations")).toBe(true);
  });

  it("sets p95 and p99 latency thresholds in the dispatch flow, and the one-winner count in the grab storm", () => {
    const flow = inspect(path.join(loadTests, "dispatch-flow.js")).options!.thresholds!;
    expect(flow.offer_latency).toEqual([expect.stringMatching(/^p\(95\)</), expect.stringMatching(/^p\(99\)</)]);
    expect(flow.time_to_assignment).toEqual([expect.stringMatching(/^p\(95\)</), expect.stringMatching(/^p\(99\)</)]);
    expect(flow.answer_rate).toEqual([expect.stringMatching(/^rate>/)]);
    const storm = inspect(path.join(loadTests, "grab-storm.js"));
    expect(storm.options!.thresholds!.grab_wins).toEqual(["count==10"]);
    expect(storm.exports.teardown).toBe("function");
  });

  it("guards what v2 claims with thresholds that fail on no data: server-side offer latency, grabs won, cancels, drift judged", () => {
    const flow = inspect(path.join(loadTests, "dispatch-flow.js")).options!.thresholds!;
    expect(flow.server_offer_latency).toEqual([expect.stringMatching(/^p\(95\)</), expect.stringMatching(/^p\(99\)</)]);
    // k6 passes a trend's or a rate's thresholds when it has no samples; counters are what fail empty runs.
    expect(flow.offers_untimed).toEqual(["count==0"]);
    expect(flow.grabs_won).toEqual(["count>0"]);
    expect(flow.grab_answer_rate).toEqual([expect.stringMatching(/^rate>/)]);
    expect(flow.cancel_failures).toEqual(["count==0"]);
    const soak = inspect(path.join(loadTests, "soak.js")).options!.thresholds!;
    expect(soak["drift_judged{metric:create_request}"]).toEqual(["count>0"]);
    expect(soak["drift_judged{metric:time_to_assignment}"]).toEqual(["count>0"]);
    expect(inspect(path.join(loadTests, "grab-storm.js")).options!.thresholds!.server_offer_latency).toEqual([expect.stringMatching(/^p\(95\)</)]);
  });
});

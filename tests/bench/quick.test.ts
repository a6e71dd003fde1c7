/**
 * CI smoke test of `npm run bench -- --quick`: every suite runs end to end against the real Redis
 * and PostgreSQL, cleans up after itself, and the table lists all five comparisons. It asserts no
 * numbers: the machines are noisy and speed is judged by reading a full run, not by CI.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { callgrindAvailable } from "../../bench/lib/callgrindRedis.ts";
import { describeWithServices, probePostgres, probeRedis } from "../support/services.ts";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick"], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describeWithServices("npm run bench -- --quick", [await probePostgres(), await probeRedis()], () => {
  it("runs every suite and prints the table with all eight suites and a results file", { timeout: 300_000 }, async () => {
    const { code, stdout, stderr } = await runQuickBench();
    expect(code, `${stdout}\n${stderr.slice(-4000)}`).toBe(0);
    for (const measure of [
      "matching core: decisions/s (redis store)",
      "matching core: grabs/s (memory store)",
      "end to end:",
      "end to end: PostgreSQL statements per flow",
      "end to end: Redis calls per flow",
      "latency: create→offer",
      "decision time:",
      "socket memory:",
      "kpis: ",
      "simulation: one day",
    ]) {
      expect(stdout).toContain(measure);
    }
    // Counted under valgrind when it is installed (it is on CI), else skipped with a line saying why.
    if (callgrindAvailable()) {
      expect(stdout).toContain("Redis instructions per decision (callgrind)");
      expect(stdout).toContain("Redis instructions per grab (callgrind)");
    } else {
      expect(stderr).toContain("redisWork: skipped");
    }
    expect(stdout).toMatch(/measure\s+figure\s+baseline\s+ratio\s+target/);
    const file = stdout.match(/results written to (\S+\.json)/)?.[1];
    expect(file).toBeDefined();
    const results = JSON.parse(fs.readFileSync(file!, "utf8"));
    expect(results.quick).toBe(true);
    expect(results.suites.map((s: { suite: string }) => s.suite)).toEqual([
      "matchingCore",
      "redisWork",
      "endToEnd",
      "latency",
      "decisionTime",
      "socketMemory",
      "kpis",
      "simulation",
    ]);
    fs.rmSync(file!);
    // Progress went to stderr, one line per phase at least.
    expect(stderr).toContain("[bench] socketMemory: done");
  });
});

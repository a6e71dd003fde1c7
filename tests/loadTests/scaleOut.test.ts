/**
 * load-tests/scale-out.mjs without k6 or servers: its flags, the rate search, the table, the reading
 * of k6's summary export and of /proc's stat lines. A wrong search step or a misread threshold
 * would put a wrong number in the scale-out table with nothing to show for it, so those are pinned
 * here; running the measurement itself takes k6, PostgreSQL, Redis and minutes.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const script = path.resolve(import.meta.dirname, "../../load-tests/scale-out.mjs");

interface Run {
  rate: number;
  pass: boolean;
}
interface Row {
  processes: number;
  rate: number;
  serverOfferP95: number | null;
  cpu: { server: number; redis: number; postgres: number; k6: number; total: number } | null;
  limit: { rate: number; failed: string[]; exitCode: number } | null;
}
interface Sample {
  group: string;
  ticks: number;
  start: number;
}
interface ScaleOut {
  DEFAULTS: Record<string, unknown>;
  parseArgs(argv: string[]): Record<string, unknown>;
  nextRate(history: Run[], search: { start: number; factor: number; bisect: number }): number | null;
  sustained(runs: Run[]): { rate: number; run: Run | null };
  limit(runs: Run[], rate: number): Run | null;
  sizeWorld(rate: number): { advisors: number; clients: number };
  formatTable(rows: Row[]): string;
  readSummary(summary: unknown): { failed: string[]; serverOfferP95: number | null; createP95: number | null; answerRate: number | null; dropped: number };
  parseStat(text: string): { comm: string; pgrp: number; ticks: number; start: number };
  coresBetween(before: Map<string, Sample>, after: Map<string, Sample>, wallSeconds: number, windowStartTicks: number, hz: number): Record<string, number>;
  durationSeconds(text: string): number;
}

// A plain .mjs outside the TypeScript project: imported by URL and typed by the interface above.
const scaleOut = (await import(pathToFileURL(script).href)) as ScaleOut;

/** Runs the search against a fake deployment that passes every rate up to `capacity`. */
function search(capacity: number, options = { start: 8, factor: 1.5, bisect: 2 }, maxRuns = 20): number[] {
  const history: Run[] = [];
  for (let rate = scaleOut.nextRate(history, options); rate !== null && history.length < maxRuns; rate = scaleOut.nextRate(history, options)) {
    history.push({ rate, pass: rate <= capacity });
  }
  return history.map((h) => h.rate);
}

describe("scale-out.mjs flags", () => {
  it("defaults to 1, 2 and 3 processes and takes each flag, in both spellings", () => {
    expect(scaleOut.parseArgs([])).toEqual(scaleOut.DEFAULTS);
    expect(scaleOut.DEFAULTS.processes).toEqual([1, 2, 3]);
    const options = scaleOut.parseArgs([
      "--processes",
      "1,2",
      "--duration=45s",
      "--start",
      "12",
      "--factor",
      "2",
      "--bisect",
      "0",
      "--k6",
      "/opt/k6",
      "--grab-share",
      "0.2",
      "--keep-data",
      "--dry-run",
    ]);
    expect(options).toMatchObject({
      processes: [1, 2],
      duration: "45s",
      start: 12,
      factor: 2,
      bisect: 0,
      k6: "/opt/k6",
      grabShare: 0.2,
      keepData: true,
      dryRun: true,
    });
  });

  it.each([
    [["--bogus"], /unknown flag --bogus/],
    [["--processes", "1,1"], /--processes 1,1: repeated/],
    [["--processes", "0"], /--processes 0/],
    [["--duration", "45"], /--duration 45: expected a k6 duration/],
    [["--factor", "1"], /--factor 1: expected a number above 1/],
    [["--grab-share", "2"], /--grab-share 2/],
    [["--redis-url", "http://x"], /--redis-url/],
    [["--start"], /--start needs a value/],
  ])("refuses %j naming the flag", (argv, message) => {
    expect(() => scaleOut.parseArgs(argv)).toThrow(message);
  });

  it("--dry-run prints the plan and starts nothing; a bad flag exits 1 with one line", () => {
    const dry = spawnSync(process.execPath, [script, "--dry-run", "--k6", process.execPath, "--processes", "2,3"], { encoding: "utf8" });
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain("rows: 2, 3 process(es)");
    expect(dry.stdout).toMatch(/sizes: 12\/s: 120 advisors, 120 clients; 19\/s: 190 advisors/);
    const bad = spawnSync(process.execPath, [script, "--processes", "x"], { encoding: "utf8" });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe("scale-out: --processes x: expected an integer above 0");
  });
});

describe("the rate search", () => {
  it("steps up by the factor until a fail, then bisects the given number of times", () => {
    // 8, 12, 18 pass; 27 fails; bisect 22 (fails), then 20 (passes): two bisections, done.
    expect(search(20)).toEqual([8, 12, 18, 27, 22, 20]);
    expect(search(20, { start: 8, factor: 1.5, bisect: 0 })).toEqual([8, 12, 18, 27]);
  });

  it("steps down when the first rate fails and stops when the bracket is adjacent", () => {
    expect(search(3)).toEqual([8, 5, 3, 4]);
    expect(search(0)).toEqual([8, 5, 3, 2, 1]);
  });

  it("reports the highest pass and the lowest fail above it", () => {
    const runs = [8, 12, 18, 27, 22, 20].map((rate) => ({ rate, pass: rate <= 20 }));
    expect(scaleOut.sustained(runs).rate).toBe(20);
    expect(scaleOut.limit(runs, 20)?.rate).toBe(22);
    expect(scaleOut.sustained([{ rate: 8, pass: false }])).toEqual({ rate: 0, run: null });
  });

  it("sizes advisors with the rate, never below 20", () => {
    expect(scaleOut.sizeWorld(1)).toEqual({ advisors: 20, clients: 20 });
    expect(scaleOut.sizeWorld(27)).toEqual({ advisors: 270, clients: 270 });
    expect(scaleOut.sizeWorld(500).advisors).toBe(1000);
  });
});

describe("reading k6 and /proc", () => {
  it("takes the failed thresholds and the figures from a summary export", () => {
    const summary = {
      metrics: {
        server_offer_latency: { "p(95)": 12.5, "p(99)": 40, thresholds: { "p(95)<1000": false, "p(99)<2500": false } },
        "http_req_duration{name:create_request}": { "p(95)": 620, thresholds: { "p(95)<500": true, "p(99)<1000": false } },
        answer_rate: { value: 0.93, thresholds: { "rate>0.95": true } },
        dropped_iterations: { count: 4 },
      },
    };
    expect(scaleOut.readSummary(summary)).toMatchObject({
      failed: ["answer_rate rate>0.95", "http_req_duration{name:create_request} p(95)<500"],
      serverOfferP95: 12.5,
      createP95: 620,
      answerRate: 0.93,
      dropped: 4,
    });
    expect(scaleOut.readSummary(null).failed).toEqual([]);
  });

  it("parses a stat line whose command name holds spaces and parentheses", () => {
    const line = "4242 (postgres: a (b) c) S 1 4200 4200 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 9000 1000 10";
    expect(scaleOut.parseStat(line)).toEqual({ comm: "postgres: a (b) c", pgrp: 4200, ticks: 325, start: 9000 });
  });

  it("turns CPU ticks into cores per group, counting processes started in the window from zero", () => {
    const before = new Map([
      ["1", { group: "server", ticks: 100, start: 0 }],
      ["2", { group: "redis", ticks: 50, start: 0 }],
    ]);
    const after = new Map([
      ["1", { group: "server", ticks: 1100, start: 0 }], // 10 s of CPU in 10 s: one core
      ["2", { group: "redis", ticks: 250, start: 0 }], // 2 s: 0.2
      ["3", { group: "k6", ticks: 500, start: 6000 }], // started in the window: 5 s, 0.5
      ["4", { group: "postgres", ticks: 9000, start: 10 }], // existed before but unseen: skipped
    ]);
    const cores = scaleOut.coresBetween(before, after, 10, 5000, 100);
    expect(cores).toEqual({ server: 1, redis: 0.2, postgres: 0, k6: 0.5, total: 1.7 });
    expect(scaleOut.durationSeconds("1m30s")).toBe(90);
  });

  it("prints one aligned row per process count, with what failed above the sustained rate", () => {
    const table = scaleOut.formatTable([
      {
        processes: 1,
        rate: 18,
        serverOfferP95: 21.4,
        cpu: { server: 0.85, redis: 0.05, postgres: 0.2, k6: 0.6, total: 1.7 },
        limit: { rate: 22, failed: ["answer_rate rate>0.95"], exitCode: 99 },
      },
      { processes: 2, rate: 0, serverOfferP95: null, cpu: null, limit: { rate: 8, failed: [], exitCode: 107 } },
    ]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0]!.split("|").map((c) => c.trim())).toEqual([
      "",
      "processes",
      "sustained (req/s)",
      "server offer p95 (ms)",
      "CPU server",
      "Redis",
      "PostgreSQL",
      "k6",
      "total (cores)",
      "first failing rate: failed thresholds",
      "",
    ]);
    expect(lines[2]!.split("|").map((c) => c.trim())).toEqual(["", "1", "18", "21", "0.85", "0.05", "0.20", "0.60", "1.70", "22/s: answer_rate rate>0.95", ""]);
    expect(lines[3]).toContain("8/s: k6 exit 107");
    expect(lines[3]).toContain("–");
  });
});

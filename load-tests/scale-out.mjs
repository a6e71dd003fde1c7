#!/usr/bin/env node
/**
 * Scale-out measurement: how many requests per second 1, 2, 3… server processes sustain on one
 * PostgreSQL and one Redis, with every threshold of dispatch-flow.js green, and where the CPU goes.
 * A k6 run says pass or fail at one rate; this searches the rate for each process count, so the
 * answer is one number per row instead of a judgement call over many summaries.
 *
 * For each process count N it creates a fresh database (migrated once) and a fresh REDIS_PREFIX,
 * starts N servers from --server-dir, waits for /readyz, then runs dispatch-flow.js with BASE_URLS
 * naming all N: geometrically up from --start (or the previous row's rate) until a run fails, then
 * --bisect bisections between the highest pass and the lowest fail. Advisors and clients grow with
 * the rate, so supply never limits a run (see sizeWorld). While clients arrive (after setup and
 * warm-up), it samples CPU time from /proc for the servers, redis-server, every postgres process
 * and k6, reported as cores (CPU seconds / wall seconds). Everything it started is stopped on exit,
 * Ctrl-C or failure, and its databases are dropped (unless --keep-data).
 *
 *   node load-tests/scale-out.mjs                                   # 1, 2 and 3 processes
 *   node load-tests/scale-out.mjs --processes 1,2 --duration 45s --start 10
 *   node load-tests/scale-out.mjs --dry-run                         # print the plan and exit
 *
 * Flags (defaults in brackets):
 *   --processes LIST    process counts to measure [1,2,3]
 *   --duration D        k6 DURATION of each step (clients arriving) [30s]
 *   --start R           first rate (requests/s) of the first row; later rows start at the
 *                       previous row's sustained rate [12]
 *   --factor F          geometric step up (and down, when the first run fails) [1.6]
 *   --bisect K          bisections once a pass and a fail bracket the rate [2]
 *   --max-runs M        k6 runs per row at most [6]
 *   --grab-share S      GRAB_SHARE of the flow [0: see below]
 *   --k6 PATH           k6 binary [$K6 or /work/bin/k6 or k6 on PATH]
 *   --server-dir DIR    checkout the servers run from (npm ci done there) [this repository]
 *   --database-url URL  PostgreSQL server; a database per row is created on it
 *                       [postgresql://postgres@127.0.0.1:5432/postgres]
 *   --redis-url URL     Redis [redis://127.0.0.1:6379]
 *   --base-port P       first server port; process i listens on P+i [3101]
 *   --results FILE      JSON results [bench/results/scale-out-<time>.json]
 *   --keep-data         keep the databases and Redis keys afterwards (for check:consistency)
 *   --dry-run           print the plan (sizes per rate, commands) and exit; starts nothing
 *
 * Run k6 elsewhere when you can: on one machine its CPU is part of what limits each row, which is
 * why the table reports it.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { nodeFlagsOf, startScriptOf } from "../tools/startScript.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");

export const DEFAULTS = {
  processes: [1, 2, 3],
  duration: "30s",
  start: 12,
  factor: 1.6,
  bisect: 2,
  maxRuns: 6,
  grabShare: 0,
  k6: null,
  serverDir: repo,
  databaseUrl: "postgresql://postgres@127.0.0.1:5432/postgres",
  redisUrl: "redis://127.0.0.1:6379",
  basePort: 3101,
  results: null,
  keepData: false,
  dryRun: false,
};

const FLAGS = {
  "--processes": ["processes", (v) => positiveList(v, "--processes")],
  "--duration": ["duration", (v) => durationText(v, "--duration")],
  "--start": ["start", (v) => positive(v, "--start", true)],
  "--factor": ["factor", (v) => positive(v, "--factor", false, 1)],
  "--bisect": ["bisect", (v) => nonNegativeInt(v, "--bisect")],
  "--max-runs": ["maxRuns", (v) => positive(v, "--max-runs", true)],
  "--grab-share": ["grabShare", (v) => share(v)],
  "--k6": ["k6", (v) => v],
  "--server-dir": ["serverDir", (v) => path.resolve(v)],
  "--database-url": ["databaseUrl", (v) => url(v, /^postgres(ql)?:\/\//, "--database-url")],
  "--redis-url": ["redisUrl", (v) => url(v, /^rediss?:\/\//, "--redis-url")],
  "--base-port": ["basePort", (v) => positive(v, "--base-port", true)],
  "--results": ["results", (v) => path.resolve(v)],
};
const SWITCHES = { "--keep-data": "keepData", "--dry-run": "dryRun" };

/** Command-line flags → options; a malformed value throws naming the flag. */
export function parseArgs(argv) {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (SWITCHES[flag]) {
      options[SWITCHES[flag]] = true;
      continue;
    }
    const spec = FLAGS[flag];
    if (!spec) throw new Error(`unknown flag ${argv[i]} (see the header of load-tests/scale-out.mjs)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    options[spec[0]] = spec[1](value);
  }
  return options;
}

function positive(value, flag, integer, above = 0) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= above || (integer && !Number.isInteger(n)))
    throw new Error(`${flag} ${value}: expected ${integer ? "an integer" : "a number"} above ${above}`);
  return n;
}
function nonNegativeInt(value, flag) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} ${value}: expected an integer ≥ 0`);
  return n;
}
function positiveList(value, flag) {
  const list = String(value)
    .split(",")
    .map((v) => positive(v.trim(), flag, true));
  if (new Set(list).size !== list.length) throw new Error(`${flag} ${value}: repeated count`);
  return list;
}
function share(value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`--grab-share ${value}: expected a number in [0, 1]`);
  return n;
}
function durationText(value, flag) {
  if (!/^(\d+(h|m|s))+$/.test(value)) throw new Error(`${flag} ${value}: expected a k6 duration such as 30s or 1m30s`);
  return value;
}
function url(value, pattern, flag) {
  if (!pattern.test(value)) throw new Error(`${flag} ${value}: expected ${pattern.source.replace(/\\/g, "")}…`);
  return value;
}

export const durationSeconds = (text) =>
  [...String(text).matchAll(/(\d+)(h|m|s)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * { h: 3600, m: 60, s: 1 }[unit], 0);

/**
 * Advisors and clients for a rate. Each request holds an advisor's slot for the think time and the
 * talk (1-4 s + 3-10 s in the flow: 9 s on average, 14 s at most); advisors have MAX_CONCURRENT 2.
 * Ten advisors per request/s give 20 slots per request/s, about twice the average need and above
 * the worst case, so a failing run means the servers (or k6) fell behind, not that supply ran out.
 * Clients: ten per request/s, so each asks about once in ten seconds.
 */
export function sizeWorld(rate) {
  return { advisors: Math.min(1000, Math.max(20, Math.ceil(rate * 10))), clients: Math.max(20, Math.ceil(rate * 10)) };
}

/**
 * The next rate to try given the runs so far (`[{rate, pass}]`), or null when the search is done:
 * up by `factor` while everything passes, down by it while everything fails, then `bisect`
 * bisections between the highest pass and the lowest fail (integer rates: stops when adjacent).
 */
export function nextRate(history, { start, factor, bisect }) {
  if (!history.length) return start;
  const passes = history.filter((h) => h.pass).map((h) => h.rate);
  const fails = history.filter((h) => !h.pass).map((h) => h.rate);
  const lo = passes.length ? Math.max(...passes) : 0;
  const hi = fails.length ? Math.min(...fails) : Number.POSITIVE_INFINITY;
  if (hi === Number.POSITIVE_INFINITY) return Math.max(lo + 1, Math.round(lo * factor));
  if (!passes.length) return hi <= 1 ? null : Math.max(1, Math.min(hi - 1, Math.floor(hi / factor)));
  const bracketed = history.findIndex((_, i) => {
    const seen = history.slice(0, i + 1);
    return seen.some((h) => h.pass) && seen.some((h) => !h.pass);
  });
  if (history.length - 1 - bracketed >= bisect) return null;
  const mid = Math.floor((lo + hi) / 2);
  return mid <= lo ? null : mid;
}

/** The highest rate that passed (0: none did) and the run that showed it. */
export function sustained(runs) {
  const passes = runs.filter((r) => r.pass);
  if (!passes.length) return { rate: 0, run: null };
  const run = passes.reduce((best, r) => (r.rate > best.rate ? r : best));
  return { rate: run.rate, run };
}

/** The lowest failing rate above the sustained one: what stopped the row. */
export function limit(runs, rate) {
  const fails = runs.filter((r) => !r.pass && r.rate > rate);
  return fails.length ? fails.reduce((low, r) => (r.rate < low.rate ? r : low)) : null;
}

const fixed = (n, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits));

/**
 * The final table, one row per process count:
 * processes | sustained rate | server offer latency p95 | CPU (cores) of servers, Redis, PostgreSQL, k6, total | what failed above it.
 */
export function formatTable(rows) {
  const header = [
    "processes",
    "sustained (req/s)",
    "server offer p95 (ms)",
    "CPU server",
    "Redis",
    "PostgreSQL",
    "k6",
    "total (cores)",
    "first failing rate: failed thresholds",
  ];
  const lines = rows.map((row) => {
    const cpu = row.cpu ?? {};
    const limitText = row.limit
      ? `${row.limit.rate}/s: ${row.limit.failed.length ? row.limit.failed.join(", ") : `k6 exit ${row.limit.exitCode}`}`
      : "none failed";
    return [
      String(row.processes),
      String(row.rate),
      fixed(row.serverOfferP95, 0),
      fixed(cpu.server),
      fixed(cpu.redis),
      fixed(cpu.postgres),
      fixed(cpu.k6),
      fixed(cpu.total),
      limitText,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const render = (cells) => `| ${cells.map((c, i) => (i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [
    render(header),
    `|${widths.map((w, i) => (i === widths.length - 1 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`,
    ...lines.map(render),
  ].join("\n");
}

/**
 * k6's --summary-export → the figures a row needs. Thresholds map to true when they failed
 * (k6's legacy summary format), so those names are what limited a failing run.
 */
export function readSummary(summary) {
  const metrics = summary?.metrics ?? {};
  const failed = [];
  for (const [name, metric] of Object.entries(metrics)) {
    for (const [expression, crossed] of Object.entries(metric.thresholds ?? {})) if (crossed === true) failed.push(`${name} ${expression}`);
  }
  const trend = (name, stat) => metrics[name]?.[stat] ?? null;
  return {
    failed: failed.sort(),
    serverOfferP95: trend("server_offer_latency", "p(95)"),
    serverOfferP99: trend("server_offer_latency", "p(99)"),
    offerP95: trend("offer_latency", "p(95)"),
    createP95: trend("http_req_duration{name:create_request}", "p(95)"),
    acceptP95: trend("http_req_duration{name:accept_offer}", "p(95)"),
    answerRate: metrics.answer_rate?.value ?? null,
    created: metrics.request_created?.passes ?? null,
    dropped: metrics.dropped_iterations?.count ?? 0,
    httpFailed: metrics.http_req_failed?.value ?? null,
  };
}

// ---- CPU sampling from /proc ---------------------------------------------------------------------

/** /proc/<pid>/stat → the fields we need (comm may hold spaces and parentheses: split after the last ')'). */
export function parseStat(text) {
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After comm: state(3) ppid(4) pgrp(5) … utime(14) stime(15) … starttime(22); f[0] is field 3.
  return { comm, pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]), start: Number(f[19]) };
}

/** CPU seconds of each group's processes now: server and k6 by process group, Redis by port, PostgreSQL by name. */
function snapshot(groups) {
  const byPid = new Map();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = parseStat(fs.readFileSync(`/proc/${entry}/stat`, "utf8"));
    } catch {
      continue; // exited meanwhile
    }
    let group = null;
    if (groups.server.has(stat.pgrp)) group = "server";
    else if (groups.k6.has(stat.pgrp)) group = "k6";
    else if (stat.comm === "redis-server") group = isOurRedis(entry, groups.redisPort) ? "redis" : null;
    else if (stat.comm === "postgres" || stat.comm.startsWith("postgres:")) group = "postgres";
    if (group) byPid.set(entry, { group, ticks: stat.ticks, start: stat.start });
  }
  return byPid;
}

const redisCache = new Map();
function isOurRedis(pid, port) {
  if (!redisCache.has(pid)) {
    let cmdline = "";
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {}
    // Sentinels are redis-server processes too; ours is the one serving REDIS_URL's port.
    redisCache.set(pid, !cmdline.includes("sentinel") && new RegExp(`:${port}\\b`).test(cmdline));
  }
  return redisCache.get(pid);
}

let clockTicks = 100;
const uptimeTicks = () => Number(fs.readFileSync("/proc/uptime", "utf8").split(" ")[0]) * clockTicks;

/**
 * Cores used per group between two snapshots. A process that started inside the window counts from
 * zero; one that exited inside it is lost (k6 is sampled before it exits, see measureCpu).
 */
export function coresBetween(before, after, wallSeconds, windowStartTicks, hz = clockTicks) {
  const cores = { server: 0, redis: 0, postgres: 0, k6: 0 };
  for (const [pid, now] of after) {
    const then = before.get(pid);
    const base = then ? then.ticks : now.start >= windowStartTicks ? 0 : null;
    if (base === null) continue; // existed before the window but was not seen: skip rather than guess
    cores[now.group] += (now.ticks - base) / hz / wallSeconds;
  }
  cores.total = cores.server + cores.redis + cores.postgres + cores.k6;
  return cores;
}

// ---- processes ---------------------------------------------------------------------------------

const children = new Set();

/** Starts a child in its own process group, so stopping it stops its own children (tsx runs node). */
function start(command, args, { env, cwd, log }) {
  const out = fs.openSync(log, "a");
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", out, out], detached: true });
  fs.closeSync(out);
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

function stop(child, signal = "SIGTERM") {
  try {
    process.kill(-child.pid, signal);
  } catch {}
}

async function stopAll() {
  const running = [...children];
  for (const child of running) stop(child);
  const deadline = Date.now() + 12_000;
  while (children.size && Date.now() < deadline) await sleep(200);
  for (const child of children) stop(child, "SIGKILL");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitReady(port, child, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server on port ${port} exited with code ${child.exitCode} (see its log)`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (response.ok) return;
    } catch {}
    await sleep(500);
  }
  throw new Error(`server on port ${port} not ready within ${timeoutMs / 1000} s`);
}

function databaseUrlFor(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function psql(adminUrl, sql) {
  execFileSync("psql", [adminUrl, "-v", "ON_ERROR_STOP=1", "-qc", sql], { stdio: ["ignore", "ignore", "inherit"] });
}

function redisCli(redisUrl, args) {
  return execFileSync("redis-cli", ["-u", redisUrl, ...args], { encoding: "utf8" });
}

function clearRedis(redisUrl, prefix) {
  try {
    const keys = redisCli(redisUrl, ["--scan", "--pattern", `${prefix}*`])
      .split("\n")
      .filter(Boolean);
    for (let i = 0; i < keys.length; i += 500) redisCli(redisUrl, ["UNLINK", ...keys.slice(i, i + 500)]);
  } catch (error) {
    log(`could not clear Redis keys ${prefix}*: ${error.message}`);
  }
}

function findK6(flag) {
  for (const candidate of [flag, process.env.K6, "/work/bin/k6"]) if (candidate && fs.existsSync(candidate)) return candidate;
  try {
    return execFileSync("sh", ["-c", "command -v k6"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("k6 not found: pass --k6 PATH or set K6");
  }
}

const loadAverage = () => fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const stamp = () => new Date().toISOString().slice(11, 19);
function log(line) {
  console.log(`[${stamp()}] ${line}`);
}

// ---- one k6 run -----------------------------------------------------------------------------------

/**
 * Runs dispatch-flow.js at `rate` and samples CPU while clients arrive: the window opens when setup
 * logs its world (k6 prints "run <id>: branch …") plus WARMUP (10 s), and lasts DURATION.
 */
async function runK6({ k6, rate, urls, options, dir, serverGroups, redisPort }) {
  const { advisors, clients } = sizeWorld(rate);
  const summaryFile = path.join(dir, `k6-${urls.length}p-${rate}rps.summary.json`);
  const logFile = path.join(dir, `k6-${urls.length}p-${rate}rps.log`);
  fs.rmSync(summaryFile, { force: true });
  const args = ["run", "--no-color", `--summary-export=${summaryFile}`];
  const env = { BASE_URLS: urls.join(","), RATE: rate, ADVISORS: advisors, CLIENTS: clients, DURATION: options.duration, GRAB_SHARE: options.grabShare };
  for (const [name, value] of Object.entries(env)) args.push("-e", `${name}=${value}`);
  args.push(path.join(here, "dispatch-flow.js"));

  const child = start(k6, args, { cwd: repo, env: {}, log: logFile });
  const groups = { server: serverGroups, k6: new Set([child.pid]), redisPort };
  const cpu = await new Promise((resolve) => {
    let timer = null;
    let measured = null;
    const watch = setInterval(() => {
      if (timer || child.exitCode !== null) return;
      const text = fs.readFileSync(logFile, "utf8");
      if (!/run [a-z0-9]+: branch/.test(text)) return;
      // Setup done; clients start after the warm-up.
      timer = setTimeout(() => {
        const windowStart = uptimeTicks();
        const before = snapshot(groups);
        const began = Date.now();
        timer = setTimeout(() => {
          const after = snapshot(groups);
          measured = coresBetween(before, after, (Date.now() - began) / 1000, windowStart);
        }, durationSeconds(options.duration) * 1000);
      }, 10_000);
    }, 250);
    child.on("exit", () => {
      clearInterval(watch);
      clearTimeout(timer);
      resolve(measured);
    });
  });
  const exitCode = child.exitCode;
  let summary = null;
  try {
    summary = JSON.parse(fs.readFileSync(summaryFile, "utf8"));
  } catch {}
  const figures = readSummary(summary);
  // 0: every threshold green. 99: thresholds failed. Anything else (setup failed, killed): not a pass either.
  return { rate, advisors, clients, exitCode, pass: exitCode === 0, cpu, ...figures, log: path.relative(repo, logFile) };
}

// ---- one row: N processes -----------------------------------------------------------------------------

async function measureRow(n, options, context) {
  const { k6, tag, dir, jwtSecret } = context;
  const database = `adx_scaleout_${tag}_${n}p`;
  const databaseUrl = databaseUrlFor(options.databaseUrl, database);
  const prefix = `scaleout:${tag}:${n}p:`;
  const redisPort = new URL(options.redisUrl).port || "6379";
  psql(options.databaseUrl, `CREATE DATABASE ${database}`);
  context.databases.push(database);
  context.prefixes.push(prefix);
  const serverEnv = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    DEV_AUTH: "true",
    SEED_DEMO: "false",
    JWT_SECRET: jwtSecret,
    RATE_LIMIT_REQUESTS_PER_MINUTE: "100000",
    RATE_LIMIT_ACCEPTS_PER_MINUTE: "100000",
    LOG_LEVEL: "warn",
    NODE_ENV: "development",
  };
  const tsx = path.join(options.serverDir, "node_modules", ".bin", "tsx");
  execFileSync(tsx, ["prisma/tools/migrate.ts"], { cwd: options.serverDir, env: { ...process.env, ...serverEnv }, stdio: ["ignore", "ignore", "inherit"] });

  const servers = [];
  const urls = [];
  for (let i = 0; i < n; i++) {
    const port = options.basePort + i;
    const child = start(tsx, ["app/main.ts"], {
      cwd: options.serverDir,
      env: { ...serverEnv, PORT: String(port), NODE_OPTIONS: (nodeFlagsOf(startScriptOf(options.serverDir)) ?? []).join(" ") },
      log: path.join(dir, `server-${n}p-${port}.log`),
    });
    servers.push(child);
    urls.push(`http://127.0.0.1:${port}`);
  }
  try {
    await Promise.all(servers.map((child, i) => waitReady(options.basePort + i, child)));
    log(`${n} process(es) ready on ${urls.join(", ")} (database ${database}, prefix ${prefix}); load ${loadAverage()}`);
    const serverGroups = new Set(servers.map((s) => s.pid));
    const runs = [];
    const search = { ...options, start: context.startFor() };
    for (let rate = nextRate(runs, search); rate !== null && runs.length < options.maxRuns; rate = nextRate(runs, search)) {
      const run = await runK6({ k6, rate, urls, options, dir, serverGroups, redisPort });
      runs.push(run);
      const cpu = run.cpu
        ? `CPU server ${fixed(run.cpu.server)} redis ${fixed(run.cpu.redis)} pg ${fixed(run.cpu.postgres)} k6 ${fixed(run.cpu.k6)} total ${fixed(run.cpu.total)}`
        : "CPU not sampled";
      log(
        `  ${n}p ${rate}/s (${run.advisors} advisors): ${run.pass ? "PASS" : `FAIL (exit ${run.exitCode})`}; server offer p95 ${fixed(run.serverOfferP95, 0)} ms, ` +
          `create p95 ${fixed(run.createP95, 0)} ms, answer ${fixed((run.answerRate ?? Number.NaN) * 100, 1)}%; ${cpu}` +
          (run.failed.length ? `; failed: ${run.failed.join(", ")}` : ""),
      );
      for (const child of servers) if (child.exitCode !== null) throw new Error(`a server exited (code ${child.exitCode}) during the run at ${rate}/s`);
      await sleep(3000);
    }
    const best = sustained(runs);
    const failedAbove = limit(runs, best.rate);
    return {
      processes: n,
      rate: best.rate,
      serverOfferP95: best.run?.serverOfferP95 ?? null,
      cpu: best.run?.cpu ?? null,
      limit: failedAbove ? { rate: failedAbove.rate, failed: failedAbove.failed, exitCode: failedAbove.exitCode, cpu: failedAbove.cpu } : null,
      runs,
    };
  } finally {
    for (const child of servers) stop(child);
    const deadline = Date.now() + 15_000;
    while (servers.some((s) => s.exitCode === null && s.signalCode === null) && Date.now() < deadline) await sleep(200);
    for (const child of servers) if (child.exitCode === null && child.signalCode === null) stop(child, "SIGKILL");
  }
}

// ---- main ----------------------------------------------------------------------------------------------

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const k6 = findK6(options.k6);
  try {
    clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;
  } catch {}
  const tag = new Date().toISOString().replace(/\D/g, "").slice(2, 14);
  const results = options.results ?? path.join(repo, "bench", "results", `scale-out-${tag}.json`);
  const dir = path.join(path.dirname(results), `scale-out-${tag}`);

  if (options.dryRun) {
    console.log(`k6 ${k6}; servers from ${options.serverDir}; database per row on ${options.databaseUrl}; Redis ${options.redisUrl}`);
    console.log(`rows: ${options.processes.join(", ")} process(es); steps of ${options.duration} (+ setup, 10 s warm-up and up to ~45 s of drain each)`);
    console.log(
      `search: start ${options.start}/s, ×${options.factor} until a fail, then ${options.bisect} bisection(s), at most ${options.maxRuns} runs per row`,
    );
    const sizes = [];
    for (let r = options.start, i = 0; i < 6; i++, r = Math.max(r + 1, Math.round(r * options.factor)))
      sizes.push(`${r}/s: ${sizeWorld(r).advisors} advisors, ${sizeWorld(r).clients} clients`);
    console.log(`sizes: ${sizes.join("; ")}`);
    console.log(`results: ${path.relative(repo, results)}`);
    return;
  }

  fs.mkdirSync(dir, { recursive: true });
  const context = {
    k6,
    tag,
    dir,
    jwtSecret: [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, "0")).join(""),
    databases: [],
    prefixes: [],
    rows: [],
    startFor: () => {
      const previous = context.rows.at(-1);
      return previous && previous.rate > 0 ? previous.rate : options.start;
    },
  };
  let interrupted = false;
  const cleanup = async () => {
    await stopAll();
    if (options.keepData) return log(`kept databases ${context.databases.join(", ")} and Redis prefixes ${context.prefixes.join(", ")}`);
    for (const database of context.databases) {
      try {
        psql(options.databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } catch {}
    }
    for (const prefix of context.prefixes) clearRedis(options.redisUrl, prefix);
  };
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, async () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping everything started`);
      await cleanup();
      process.exit(130);
    });
  }
  process.on("exit", () => {
    for (const child of children) stop(child, "SIGKILL");
  });

  const loadStart = loadAverage();
  log(
    `scale-out: ${options.processes.join(", ")} process(es), ${options.duration} per step, k6 ${k6}; load average ${loadStart}; logs in ${path.relative(repo, dir)}`,
  );
  const startedAt = new Date().toISOString();
  try {
    for (const n of options.processes) {
      const row = await measureRow(n, options, context);
      context.rows.push(row);
      log(`${n} process(es): sustained ${row.rate}/s${row.limit ? `; failed at ${row.limit.rate}/s` : ""}`);
      writeResults(results, { startedAt, loadStart, options, rows: context.rows });
    }
  } finally {
    await cleanup();
  }
  const loadEnd = loadAverage();
  writeResults(results, { startedAt, endedAt: new Date().toISOString(), loadStart, loadEnd, options, rows: context.rows });
  console.log("");
  console.log(formatTable(context.rows));
  console.log("");
  console.log(`load average at start ${loadStart}, at end ${loadEnd}; results in ${path.relative(repo, results)}`);
}

function writeResults(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(`scale-out: ${error.message}`);
    process.exitCode = 1;
  });
}

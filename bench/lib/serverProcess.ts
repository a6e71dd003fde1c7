/**
 * Starts a TypeScript HTTP server (our API's `app/main.ts`, or a baseline script) as a child
 * process on a free port, waits until it answers, and stops it. Benchmarks measure servers in their
 * own process so the load generator's CPU never counts against them, and vice versa.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { nodeFlagsOf, startScriptOf } from "../../tools/startScript.mjs";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
export const API_ENTRY = path.join(ROOT, "app", "main.ts");

/**
 * The node flags `npm start` gives the server (tools/startScript.mjs), so a benchmark measures the
 * server as users run it; a start script of another shape is refused rather than benchmarked otherwise.
 */
export function startScriptNodeFlags(start = startScriptOf(ROOT)): string[] {
  const flags = nodeFlagsOf(start);
  if (!flags) throw new Error(`package.json's start script is not "node [flags] --import tsx app/main.ts": ${start}`);
  return flags;
}

export interface ServerProcess {
  baseUrl: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote so far (for error messages). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** The script to run with tsx; default our API. */
  script?: string;
  /** The child's whole environment besides PATH, HOME, PORT and HOST: nothing leaks in from the shell. */
  env: Record<string, string>;
  /** Answers 200 once the server is ready; default /readyz. */
  readyPath?: string;
  readyTimeoutMs?: number;
  /**
   * Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] to profile the server. Our API
   * also gets `npm start`'s (startScriptNodeFlags), before these, so these can override them.
   */
  nodeArgs?: string[];
}

/** A port nobody listens on now (the OS picks it; another process could take it before it is used). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env, PORT: String(port), HOST: "127.0.0.1" };
  // tsx as a loader in this node process (the tsx CLI would run the script in a grandchild), so node
  // flags such as --cpu-prof and our signals reach the server itself.
  // BENCH_SERVER_NODE_ARGS adds node flags to every server a benchmark starts, for profiling it:
  // e.g. "--cpu-prof --cpu-prof-dir=/tmp/profiles" (the env is not inherited, so NODE_OPTIONS is not).
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  const script = options.script ?? API_ENTRY;
  const startFlags = script === API_ENTRY ? startScriptNodeFlags() : [];
  const child = spawn(process.execPath, [...startFlags, ...extra, ...(options.nodeArgs ?? []), "--import", "tsx", script], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(killer);
  };

  try {
    await waitUntilReady(`${baseUrl}${options.readyPath ?? "/readyz"}`, options.readyTimeoutMs ?? 60_000, child, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, port, child, output: () => output, stop };
}

async function waitUntilReady(url: string, timeoutMs: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready:\n${output()}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms:\n${output()}`);
}

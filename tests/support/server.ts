/** Starts `npm start`'s entry point as a real child process, for start-up and multi-process tests. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { startScriptNodeFlags } from "../../bench/lib/serverProcess.ts";

const ROOT = path.resolve(import.meta.dirname, "..", "..");

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function startServer(env: Record<string, string | undefined>): ServerProcess {
  // Only what the test names: no DATABASE_URL or REDIS_URL leaks in from the developer's shell.
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info" };
  // As package.json's start script runs it: node with its flags and tsx as the loader.
  const child = spawn(process.execPath, [...startScriptNodeFlags(), "--import", "tsx", path.join(ROOT, "app", "main.ts")], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Polls url until it answers 200 or the deadline passes; returns the elapsed ms. */
export async function waitFor200(url: string, timeoutMs: number, server?: ServerProcess): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      if ((await fetch(url)).status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (server && server.child.exitCode !== null) throw new Error(`server exited early:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms\n${server?.output() ?? ""}`);
}

export async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** The process and every descendant (tsx runs the server in a node child of its own). */
function withDescendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // no children (pgrep exits 1)
  }
  return [pid, ...children.flatMap(withDescendants)];
}

/**
 * Kills a server at once, as a crash would. tsx cannot relay SIGKILL to the node child that runs the
 * server, so every descendant is killed, deepest first.
 */
export function killHard(server: ServerProcess): void {
  for (const pid of withDescendants(server.child.pid!).reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Starts `count` server processes on free local ports with the same environment, and waits until each is ready. */
export async function startServerProcesses(count: number, env: Record<string, string>): Promise<{ processes: ServerProcess[]; ports: number[] }> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const processes = ports.map((port) => startServer({ ...env, PORT: String(port), HOST: "127.0.0.1" }));
  await Promise.all(ports.map((port, i) => waitFor200(`http://127.0.0.1:${port}/readyz`, 60_000, processes[i])));
  return { processes, ports };
}

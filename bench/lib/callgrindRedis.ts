/**
 * A private redis-server run under valgrind's callgrind, which counts the instructions it executes.
 * A count barely moves from run to run, whatever else the machine is doing (within 0.7% over four runs here), where
 * seconds and even CPU time per decision moved by 30% between runs on the same 2-core machine: the
 * measure to compare two versions of a script with.
 *
 * `measure(label, work)` zeroes the counters, runs `work`, and dumps them: the instructions Redis
 * executed for it (commands, scripts, replies; its idle loop adds a little). `zero()` and `dump()`
 * do the same around work that is not one function (a baseline's timed phase, through its hooks). Needs valgrind and
 * redis-server on the PATH (`available()`); Redis runs about 50 times slower under it.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { freePort } from "./serverProcess.ts";

export interface CallgrindRedis {
  url: string;
  /** Zeroes the counters: what Redis executes from now on is counted. */
  zero(): void;
  /** The instructions Redis executed since the last zero(). */
  dump(label: string): Promise<number>;
  /** Instructions Redis executed while `work` ran. */
  measure(label: string, work: () => Promise<unknown>): Promise<number>;
  /** Stops Redis and removes its files; safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

/** valgrind, callgrind_control and redis-server are all on the PATH. */
export function callgrindAvailable(): boolean {
  return ["valgrind", "callgrind_control", "redis-server"].every((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0);
}

function control(pid: number, args: string[]): void {
  const result = spawnSync("callgrind_control", [...args, String(pid)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`callgrind_control ${args.join(" ")} failed: ${result.stderr || result.stdout}`);
}

export async function startCallgrindRedis(): Promise<CallgrindRedis> {
  const dir = await mkdtemp(join(tmpdir(), "adx-callgrind-"));
  const port = await freePort();
  const child: ChildProcess = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${join(dir, "callgrind.out")}`,
      "redis-server",
      "--port",
      String(port),
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server under callgrind exited at start: ${stderr}`);
      const client = createClient({ url, socket: { reconnectStrategy: false } });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.ping();
        await client.quit();
        break;
      } catch {
        if (client.isOpen) await client.disconnect().catch(() => {});
        if (Date.now() > deadline) throw new Error(`redis-server under callgrind did not answer within ${START_TIMEOUT_MS / 1000} s: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }

  let dumps = 0;
  const pid = child.pid!;
  const zero = () => control(pid, ["--zero"]);
  const dump = async (label: string) => {
    const trigger = `${label}-${++dumps}`;
    control(pid, [`--dump=${trigger}`]);
    // Each dump is a file of its own (callgrind.out.<n>); its "summary:" line is the total.
    for (const name of await readdir(dir)) {
      if (!name.startsWith("callgrind.out")) continue;
      const text = await readFile(join(dir, name), "utf8");
      if (!text.includes(`desc: Trigger: dump ${trigger}\n`)) continue;
      const summary = /^summary: (\d+)$/m.exec(text);
      if (summary) return Number(summary[1]);
    }
    throw new Error(`callgrind dump ${trigger} not found in ${dir}`);
  };
  return {
    url,
    stop,
    zero,
    dump,
    async measure(label, work) {
      zero();
      await work();
      return dump(label);
    },
  };
}

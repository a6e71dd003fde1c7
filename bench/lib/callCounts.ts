/**
 * PostgreSQL statements and Redis calls per completed flow, counted inside our API's process by
 * countCallsPreload.ts: `createCallCounter()` gives the node flags and environment that load it,
 * `read()` asks the running server for its totals, and `perFlow()` turns two readings into the
 * figures the bench reports (background jobs that ran in between included, since they are part of
 * what the flows cost).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { scripts } from "../../matching/store/redis/scripts.ts";
import { CALL_COUNTS_FILE_ENV, CALL_COUNTS_SIGNAL, type CallCounts } from "./callCountsProtocol.ts";

const PRELOAD = pathToFileURL(path.join(import.meta.dirname, "countCallsPreload.ts")).href;
const READ_TIMEOUT_MS = 5_000;

export interface CallCounter {
  /** For startBenchApi: tsx first, so the TypeScript preload can load. */
  server: { nodeArgs: string[]; env: Record<string, string> };
  /** The server's totals so far: signals it, then waits for the file it writes. */
  read(server: ChildProcess): Promise<CallCounts>;
  /** Removes the counts file. */
  dispose(): Promise<void>;
}

export async function createCallCounter(): Promise<CallCounter> {
  const dir = await mkdtemp(path.join(tmpdir(), "adx-bench-counts-"));
  const file = path.join(dir, "counts.json");
  let asked = 0;
  return {
    server: { nodeArgs: ["--import", "tsx", "--import", PRELOAD], env: { [CALL_COUNTS_FILE_ENV]: file } },
    async read(server) {
      const seq = ++asked;
      if (!server.kill(CALL_COUNTS_SIGNAL)) throw new Error("call counts: the server process is gone");
      const deadline = Date.now() + READ_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const counts = await readFile(file, "utf8").then(
          (text) => JSON.parse(text) as CallCounts,
          () => null,
        );
        if (counts && counts.seq >= seq) return counts;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`call counts: the server wrote no counts within ${READ_TIMEOUT_MS} ms`);
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface PerFlow {
  total: number;
  /** Per flow, largest first. */
  by: Record<string, number>;
}

/** `after − before` of each key, divided by `flows`. */
export function perFlow(before: Record<string, number>, after: Record<string, number>, flows: number): PerFlow {
  const by = Object.entries(after)
    .map(([key, n]) => [key, (n - (before[key] ?? 0)) / flows] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  return { total: by.reduce((sum, [, n]) => sum + n, 0), by: Object.fromEntries(by) };
}

/** Redis calls with EVALSHA split by script name ("EVALSHA claimOffer"), from the store's own script table. */
export function redisCallsByName(counts: CallCounts): Record<string, number> {
  const names = new Map(Object.values(scripts()).map((s) => [s.sha, s.name as string]));
  const byName: Record<string, number> = { ...counts.redisCommands };
  delete byName.EVALSHA;
  for (const [sha, n] of Object.entries(counts.redisScripts)) byName[`EVALSHA ${names.get(sha) ?? sha.slice(0, 12)}`] = n;
  return byName;
}

/** "12.0 (SELECT 5.0, INSERT 3.0, ...)" for a log line. */
export function describePerFlow({ total, by }: PerFlow): string {
  return `${total.toFixed(1)} (${Object.entries(by)
    .map(([key, n]) => `${key} ${n.toFixed(2)}`)
    .join(", ")})`;
}

/**
 * A fleet of connected advisor WebSockets, held by a separate process (socketClientWorker.ts): the
 * server under test keeps one end of each, and nothing of the clients counts in its memory.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";

export type FleetRequest = { type: "connect"; url: string; count: number; batch: number } | { type: "close" };
export type FleetReport = { type: "progress"; connected: number } | { type: "connected"; connected: number } | { type: "failed"; error: string };

const WORKER = path.join(import.meta.dirname, "socketClientWorker.ts");

export interface SocketFleet {
  /** Opens `count` sockets to `url` (with advisor tokens signed for the bench's servers), in batches. */
  connect(url: string, count: number): Promise<void>;
  /** Drops every socket and ends the process. Safe to call twice. */
  close(): Promise<void>;
}

export function startSocketFleet(options: { batch: number; log(line: string): void; label: string }): SocketFleet {
  const child: ChildProcess = fork(WORKER, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    connect(url, count) {
      return new Promise((resolve, reject) => {
        let logged = 0;
        const onMessage = (report: FleetReport) => {
          if (report.type === "progress") {
            // One line per ~20% rather than per batch.
            if (report.connected - logged >= count / 5 || report.connected === count) {
              options.log(`  ${options.label}: ${report.connected}/${count} sockets connected`);
              logged = report.connected;
            }
            return;
          }
          child.off("message", onMessage);
          child.off("exit", onExit);
          if (report.type === "connected") resolve();
          else reject(new Error(`${options.label}: connecting failed: ${report.error}`));
        };
        const onExit = (code: number | null) => reject(new Error(`${options.label}: client process exited (${code}) while connecting`));
        child.on("message", onMessage);
        child.once("exit", onExit);
        child.send({ type: "connect", url, count, batch: options.batch } satisfies FleetRequest);
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: "close" } satisfies FleetRequest);
      else child.kill("SIGKILL");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

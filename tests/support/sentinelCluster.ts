/**
 * A throwaway Redis primary, one replica and three Sentinels on free local ports, each with its own
 * files in a temp dir, for failover tests. Sentinel rewrites its config file, so each gets a writable
 * one. Needs redis-server on PATH (the Sentinel mode is the same binary with --sentinel).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "redis";
import { freePort } from "./server.ts";
import { startTcpProxy } from "./tcpProxy.ts";

/** Why the Sentinel suites cannot run here (no redis-server binary to start nodes with), or null. */
export function probeRedisServer(): string | null {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return null;
  } catch {
    return "redis-server is not on PATH";
  }
}

export interface SentinelCluster {
  masterName: string;
  /** REDIS_SENTINELS for the servers. */
  sentinels: string;
  primaryPort: number;
  replicaPort: number;
  /** The port the Sentinels name as master now. */
  currentMasterPort(): Promise<number | null>;
  /**
   * Holds the replication stream (the replica follows the primary through a proxy): the primary goes
   * on acknowledging writes the replica does not get, as an asynchronous replica lagging behind would.
   * Killing the primary then drops what was held, so those writes are lost on failover.
   */
  stallReplication(): Promise<void>;
  /** Kills the node on `port` with SIGKILL, as a crash would. */
  killNode(port: number): Promise<void>;
  stop(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startSentinelCluster(options: { downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<SentinelCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "adx-sentinel-"));
  const masterName = "adxm";
  const children = new Map<number, ChildProcess>();
  // Should the test process die before stop(), its Redis processes go with it rather than linger.
  const killAll = () => {
    for (const child of children.values()) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  const start = (port: number, args: string[]) => {
    const child = spawn("redis-server", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", () => {});
    children.set(port, child);
  };
  const primaryPort = await freePort();
  const replicaPort = await freePort();
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const node = (port: number, extra: string[] = []) => [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--dbfilename",
    `dump-${port}.rdb`,
    ...extra,
  ];
  start(primaryPort, node(primaryPort));
  const replication = await startTcpProxy("127.0.0.1", primaryPort);
  // The replica names its own port to the primary, so the Sentinels reach it directly, not through the proxy.
  start(replicaPort, node(replicaPort, ["--replicaof", "127.0.0.1", String(replication.port)]));
  await waitFor(async () => (await info(replicaPort, "replication")).includes("master_link_status:up"), 10_000, "the replica to sync");
  for (const port of sentinelPorts) {
    const conf = path.join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1_000}`,
        `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 5_000}`,
        `sentinel parallel-syncs ${masterName} 1`,
        "",
      ].join("\n"),
    );
    start(port, [conf, "--sentinel"]);
  }
  const askSentinel = async (port: number): Promise<number | null> => {
    const reply = await command(port, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", masterName]).catch(() => null);
    return Array.isArray(reply) ? Number(reply[1]) : null;
  };
  // Ready when every Sentinel knows the replica and the other Sentinels (else a failover cannot be agreed).
  await waitFor(
    async () => {
      for (const port of sentinelPorts) {
        const master = (await command(port, ["SENTINEL", "MASTER", masterName]).catch(() => null)) as string[] | null;
        if (!master) return false;
        const field = (name: string) => Number(master[master.indexOf(name) + 1]);
        if (field("num-slaves") < 1 || field("num-other-sentinels") < 2) return false;
      }
      return true;
    },
    20_000,
    "the Sentinels to discover each other and the replica",
  );

  return {
    masterName,
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(","),
    primaryPort,
    replicaPort,
    async currentMasterPort() {
      for (const port of sentinelPorts) {
        const master = await askSentinel(port);
        if (master !== null) return master;
      }
      return null;
    },
    stallReplication: () => replication.stall(),
    async killNode(port) {
      const child = children.get(port);
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      if (port === primaryPort) await replication.cut();
    },
    async stop() {
      process.off("exit", killAll);
      await replication.close();
      await Promise.all(
        [...children.values()].map(async (child) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once("exit", r));
          child.kill("SIGKILL");
          await exited;
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function command(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ socket: { host: "127.0.0.1", port, connectTimeout: 1_000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

async function info(port: number, section: string): Promise<string> {
  return String(await command(port, ["INFO", section]).catch(() => ""));
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await pause(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

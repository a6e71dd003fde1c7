/**
 * socketMemory: what one connected advisor costs our server in memory, next to a bare `ws` server.
 * Both run as their own process (bench/lib/serverProcess.ts); ours is the production path, on a
 * private migrated PostgreSQL database and Redis under a private prefix. A separate client process
 * (bench/lib/socketClients.ts) opens N advisor sockets with signed tokens (10k; quick mode: 1k).
 *
 * The same method for both servers: both start together and are left to finish start-up for at
 * least MIN_UPTIME_MS with a full garbage collection every 2 s (our server frees some 30-40 MB of
 * start-up memory at an unpredictable moment in its first ~15 s, more than a thousand sockets
 * weigh); then a warm-up round of sockets is opened and dropped; then RSS (VmRSS from /proc) is
 * read after a full collection once settled (bench/lib/processMemory.ts, bench/lib/remoteGc.ts),
 * N sockets are connected, and RSS is read the same way again. Figure: (after - before) / N in
 * KB. Target: ours within 2x of the bare server.
 */
import path from "node:path";
import { startBenchApi } from "../lib/apiServer.ts";
import type { BenchContext, BenchSuite, Comparison } from "../lib/harness.ts";
import { liveResidentKb } from "../lib/processMemory.ts";
import { connectRemoteGc, MEASURED_PROCESS_FLAGS, type RemoteGc } from "../lib/remoteGc.ts";
import { startServerProcess, type ServerProcess } from "../lib/serverProcess.ts";
import { startSocketFleet } from "../lib/socketClients.ts";

const CONNECT_BATCH = 250;
const WARMUP_SOCKETS = 1_000;
const MIN_UPTIME_MS = 15_000;
const START_UP_GC_EVERY_MS = 2_000;
const BARE_WS_SERVER = path.join(import.meta.dirname, "..", "lib", "bareWsServer.ts");

interface Footprint {
  beforeKb: number;
  afterKb: number;
  perSocketKb: number;
}

/** A started server under measurement: collected every 2 s until its footprint is taken. */
interface MeasuredServer {
  label: string;
  server: ServerProcess;
  readyAt: number;
  gc: RemoteGc;
  startUpCollections: NodeJS.Timeout;
  close(): Promise<void>;
}

async function prepare(label: string, start: () => Promise<{ server: ServerProcess; close(): Promise<void> }>): Promise<MeasuredServer> {
  const { server, close } = await start();
  try {
    const gc = await connectRemoteGc(server.output);
    const startUpCollections = setInterval(() => void gc.collect().catch(() => {}), START_UP_GC_EVERY_MS);
    return {
      label,
      server,
      readyAt: Date.now(),
      gc,
      startUpCollections,
      async close() {
        clearInterval(startUpCollections);
        gc.close();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Opens `count` sockets to the server from a fresh client process, and closes them when `hold` returns. */
async function withSockets<T>(context: BenchContext, label: string, server: ServerProcess, count: number, hold: () => Promise<T>): Promise<T> {
  const fleet = startSocketFleet({ batch: CONNECT_BATCH, log: context.log, label });
  try {
    await fleet.connect(`ws://127.0.0.1:${server.port}/v1/ws`, count);
    return await hold();
  } finally {
    await fleet.close();
  }
}

async function footprint(context: BenchContext, measured: MeasuredServer, sockets: number): Promise<Footprint> {
  const { label, server, gc } = measured;
  const settling = measured.readyAt + MIN_UPTIME_MS - Date.now();
  if (settling > 0) {
    context.log(`${label}: letting start-up settle for ${(settling / 1000).toFixed(0)} s`);
    await new Promise((resolve) => setTimeout(resolve, settling));
  }
  clearInterval(measured.startUpCollections);
  const liveKb = () => liveResidentKb(server.child.pid!, gc.collect);
  // The warm-up round leaves code compiled and buffers and allocator arenas in use, as in a server
  // that has served sockets before, so the burst below measures sockets, not first-use costs.
  await withSockets(context, `${label} warm-up`, server, Math.min(WARMUP_SOCKETS, sockets), async () => {});
  const beforeKb = await liveKb();
  context.log(`${label}: ${(beforeKb / 1024).toFixed(0)} MB before; connecting ${sockets} sockets`);
  const afterKb = await withSockets(context, label, server, sockets, liveKb);
  context.log(`${label}: ${(afterKb / 1024).toFixed(0)} MB with ${sockets} sockets`);
  return { beforeKb, afterKb, perSocketKb: (afterKb - beforeKb) / sockets };
}

export const socketMemorySuite: BenchSuite = {
  name: "socketMemory",
  async run(context) {
    const sockets = context.quick ? 1_000 : 10_000;
    context.log("socketMemory: starting the bare ws server, and ours on a scratch database and a private Redis prefix");
    // Started together so their start-up settling overlaps.
    const started = await Promise.allSettled([
      prepare("bare ws server", async () => {
        const server = await startServerProcess({ script: BARE_WS_SERVER, env: {}, readyPath: "/", nodeArgs: MEASURED_PROCESS_FLAGS });
        return { server, close: () => server.stop() };
      }),
      prepare("our server", async () => {
        const api = await startBenchApi(context, { label: "socketMemory", nodeArgs: MEASURED_PROCESS_FLAGS });
        return { server: api.process, close: () => api.close() };
      }),
    ]);
    try {
      const [bare, ours] = started.map((s) => {
        if (s.status === "rejected") throw s.reason;
        return s.value;
      });
      const bareFootprint = await footprint(context, bare!, sockets);
      const ourFootprint = await footprint(context, ours!, sockets);
      const comparison: Comparison = {
        measure: `socket memory: RSS per connected advisor at ${sockets.toLocaleString("en")} sockets`,
        figure: ourFootprint.perSocketKb,
        baseline: bareFootprint.perSocketKb,
        baselineLabel: "bare ws server",
        unit: "KB",
        better: "lower",
        targetRatio: 2.0,
        details: { sockets, ours: ourFootprint, bare: bareFootprint },
      };
      return [comparison];
    } finally {
      for (const s of started) if (s.status === "fulfilled") await s.value.close();
    }
  },
};

/**
 * Offer latency: from the client's create call to the offer arriving on the advisor's socket, at a
 * constant arrival rate (open model), against the p99 of Hono's hello world served the same way (a
 * child process, the same load generator and HTTP client). Advisors accept and complete each offer
 * at once, so capacity frees and every request finds a free advisor.
 */
import path from "node:path";
import { runDispatchFlow } from "../lib/dispatchFlow.ts";
import { withDispatchWorld } from "../lib/dispatchWorld.ts";
import type { BenchContext, BenchSuite, Comparison } from "../lib/harness.ts";
import { httpJson } from "../lib/httpJson.ts";
import { runOpenLoad, type OpenLoadResult } from "../lib/openLoad.ts";
import { startServerProcess } from "../lib/serverProcess.ts";
import { percentile } from "../lib/stats.ts";

/** Well inside one process's capacity (see the endToEnd suite): latency is measured below saturation. */
const RATE_PER_SECOND = 10;
const ADVISORS = 40;
const MAX_CONCURRENT = 4;
/** Requests are spread over this many clients, as many people ask at once. */
const CLIENTS = 50;
const HELLO_WORLD_SCRIPT = path.join(import.meta.dirname, "..", "lib", "helloWorldServer.ts");

export const latencySuite: BenchSuite = {
  name: "latency",
  async run(context: BenchContext): Promise<Comparison[]> {
    // Quick mode stays short even when the server cannot keep up: whatever is sent must then drain.
    const warmupMs = context.quick ? 500 : 3_000;
    // 60 s at 10/s: 600 samples each, so a p99 is about the sixth-worst sample rather than the
    // second-worst (200 samples), and one pause of either process no longer decides the ratio.
    const durationMs = context.quick ? 2_000 : 60_000;
    // A short warm-up at the same rate first, so JIT compilation and connection set-up stay out of it.
    const atFixedRate = async (label: string, send: (index: number) => Promise<number>) => {
      await runOpenLoad({ ratePerSecond: RATE_PER_SECOND, durationMs: warmupMs, send });
      context.log(`latency: ${label} at ${RATE_PER_SECOND}/s for ${durationMs / 1000} s`);
      return runOpenLoad({ ratePerSecond: RATE_PER_SECOND, durationMs, send, log: context.log });
    };

    context.log("latency: starting the hello-world baseline server");
    const helloWorld = await startServerProcess({ script: HELLO_WORLD_SCRIPT, env: {}, readyPath: "/" });
    let baseline: OpenLoadResult;
    try {
      baseline = await atFixedRate("hello world", async () => {
        const sentAt = performance.now();
        const response = await httpJson(helloWorld.baseUrl, "GET", "/");
        if (response.status !== 200) throw new Error(`hello world answered ${response.status}`);
        return performance.now() - sentAt;
      });
    } finally {
      await helloWorld.stop();
    }

    const world = { label: "latency", advisors: ADVISORS, maxConcurrent: MAX_CONCURRENT, clients: CLIENTS };
    // The server's own part of each wait (its clock, whole ms), in the timed phase (atFixedRate's
    // second; each phase counts from index 0).
    const serverMs: number[] = [];
    let phase = 0;
    const ours = await withDispatchWorld(context, world, ({ baseUrl, directory, inbox }) =>
      atFixedRate("create→offer", async (index) => {
        if (index === 0) phase++;
        const times = await runDispatchFlow(baseUrl, inbox, directory.clients[index % CLIENTS]!);
        if (phase === 2) serverMs.push(times.offerServerMs);
        return times.offerReceivedAt - times.createdAt;
      }),
    );
    const server = { p50: percentile(serverMs, 50), p99: percentile(serverMs, 99), samples: serverMs.length };
    context.log(
      `latency: the server's own request→offer p50 ${server.p50} ms, p99 ${server.p99} ms (its clock); the client waited p50 ${ours.p50.toFixed(1)}, p99 ${ours.p99.toFixed(1)} ms`,
    );
    return [
      {
        measure: "latency: create→offer on the advisor's socket, p99",
        figure: ours.p99,
        baseline: baseline.p99,
        baselineLabel: "Hono hello-world p99",
        unit: "ms",
        better: "lower",
        targetRatio: 3.0,
        details: { ratePerSecond: RATE_PER_SECOND, durationMs, advisors: ADVISORS, maxConcurrent: MAX_CONCURRENT, ours, serverOwnMs: server, baseline },
      },
    ];
  },
};

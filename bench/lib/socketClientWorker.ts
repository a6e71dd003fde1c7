/**
 * The socketMemory load generator, run as its own process (forked by socketClients.ts) so the
 * clients' memory and file descriptors never mix with the server's. Opens `count` advisor sockets
 * in batches, reporting after each batch, holds them open until told to close, then exits.
 */
import WebSocket from "ws";
import { benchAdvisorId, branchOf } from "./population.ts";
import type { FleetReport, FleetRequest } from "./socketClients.ts";
import { benchToken } from "./tokens.ts";

const sockets: WebSocket[] = [];
const report = (message: FleetReport) => process.send!(message);

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_request, response) => reject(new Error(`upgrade refused: HTTP ${response.statusCode}`)));
    ws.once("error", reject);
  });
}

async function connect(request: Extract<FleetRequest, { type: "connect" }>): Promise<void> {
  for (let start = 0; start < request.count; start += request.batch) {
    const end = Math.min(request.count, start + request.batch);
    const batch = await Promise.all(
      Array.from({ length: end - start }, async (_, k) => {
        const i = start + k;
        const token = await benchToken({ sub: benchAdvisorId(i), role: "advisor", branchId: branchOf(i) });
        return open(`${request.url}?token=${encodeURIComponent(token)}`);
      }),
    );
    sockets.push(...batch);
    report({ type: "progress", connected: sockets.length });
  }
  report({ type: "connected", connected: sockets.length });
}

process.on("message", (message: FleetRequest) => {
  if (message.type === "connect") {
    connect(message).catch((error: Error) => report({ type: "failed", error: error.message }));
  } else {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});

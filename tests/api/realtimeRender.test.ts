/**
 * Stub envelopes rendered where they are delivered (Envelope.render, api/realtime/render.ts): a
 * client's request update costs a view read only on a process holding that client's socket, the
 * last message sent reflects every stub that arrived, and a renderer cannot widen who receives it.
 * A real hub on a real HTTP server with real sockets; the renderer is a counting fake.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { issueToken } from "../../api/auth/principal.ts";
import { createLocalFanout, type Envelope } from "../../api/realtime/fanout.ts";
import { attachRealtime, type RealtimeHub } from "../../api/realtime/hub.ts";
import { clientUpdateStub } from "../../app/realtime/clientUpdates.ts";
import { createLogger } from "../../core/logger.ts";
import { ApiClient } from "../support/apiClient.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("stub envelopes rendered by the delivering hub", () => {
  const secret = "r".repeat(32);
  const logger = createLogger("silent");
  const fanout = createLocalFanout();
  let server: http.Server;
  let hub: RealtimeHub | undefined;
  let base: string;
  /** Each render: the stub's request id. The state each render reads: version per request. */
  const renders: string[] = [];
  const version = new Map<string, number>();
  let renderMs = 0;
  let owner: (requestId: string) => string = (requestId) => `cli_${requestId}`;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const render = async (stub: Envelope): Promise<Envelope | null> => {
      const requestId = String(stub.message.requestId);
      renders.push(requestId);
      const read = version.get(requestId) ?? 0;
      await sleep(renderMs);
      return { to: [owner(requestId)], message: { type: "request.updated", request: { id: requestId, version: read } } };
    };
    hub = attachRealtime(server, { tokenRules: { secret, maxTtlSeconds: 3600 }, fanout, logger, render });
  });
  afterAll(async () => {
    await hub?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const connect = async (sub: string) => new ApiClient(base, await issueToken({ sub, role: "client" }, secret, 600)).socket();

  it("renders nothing for a client with no socket here, and the view for one with a socket", async () => {
    renders.length = 0;
    await fanout.publish(clientUpdateStub("cli_req_none", "req_none"));
    await sleep(50);
    expect(renders).toEqual([]);

    const socket = await connect("cli_req_one");
    await fanout.publish(clientUpdateStub("cli_req_one", "req_one"));
    const message = await socket.next((m) => m.type === "request.updated", 1_000);
    expect(message.message).toEqual({ type: "request.updated", request: { id: "req_one", version: 0 } });
    expect(renders).toEqual(["req_one"]);
    socket.close();
  });

  it("renders a burst of stubs for one request twice, and sends last what was read after the last stub", async () => {
    renders.length = 0;
    renderMs = 300;
    const socket = await connect("cli_req_burst");
    for (let v = 1; v <= 5; v++) {
      version.set("req_burst", v);
      await fanout.publish(clientUpdateStub("cli_req_burst", "req_burst"));
      await sleep(2);
    }
    await socket.next((m) => m.type === "request.updated" && m.request.version === 5, 2_000);
    await sleep(100);
    expect(renders).toEqual(["req_burst", "req_burst"]);
    const versions = socket.messages.filter((m) => m.message.type === "request.updated").map((m) => m.message.request.version);
    expect(versions).toEqual([1, 5]);
    renderMs = 0;
    socket.close();
  });

  it("never sends a rendered message to anyone the stub did not address", async () => {
    const socket = await connect("cli_req_x");
    const other = await connect("cli_someone_else");
    owner = () => "cli_someone_else";
    await fanout.publish(clientUpdateStub("cli_req_x", "req_x"));
    await sleep(50);
    owner = (requestId) => `cli_${requestId}`;
    expect(socket.messages.filter((m) => m.message.type === "request.updated")).toEqual([]);
    expect(other.messages.filter((m) => m.message.type === "request.updated")).toEqual([]);
    socket.close();
    other.close();
  });

  it("logs a failed render, and renders the next stub afresh", async () => {
    const logged = vi.spyOn(logger, "error");
    const socket = await connect("cli_req_fail");
    version.set("req_fail", -1);
    owner = () => {
      throw new Error("database unavailable");
    };
    await fanout.publish(clientUpdateStub("cli_req_fail", "req_fail"));
    await vi.waitFor(() => expect(logged).toHaveBeenCalledWith(expect.objectContaining({ type: "request.updated" }), "realtime render failed"));
    owner = (requestId) => `cli_${requestId}`;
    await fanout.publish(clientUpdateStub("cli_req_fail", "req_fail"));
    await socket.next((m) => m.type === "request.updated", 1_000);
    logged.mockRestore();
    socket.close();
  });
});

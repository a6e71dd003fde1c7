/**
 * Full garbage collections on demand in another node process, through its inspector (started with
 * MEASURED_PROCESS_FLAGS): RSS read right after a full collection counts live
 * memory, not whatever garbage start-up or a connection burst happened to leave behind, which at
 * a thousand sockets is as large as the figure itself. The session stays open for the whole
 * measurement, so its own cost is in the "before" and the "after" alike.
 */
import WebSocket from "ws";

/**
 * The flags a measured process starts with: its inspector, and a young generation of fixed size,
 * because V8 otherwise grows it to tens of MB during a burst of allocation and shrinks it at leisure,
 * a swing larger than a thousand sockets' worth of memory.
 */
export const MEASURED_PROCESS_FLAGS = ["--inspect=127.0.0.1:0", "--min-semi-space-size=16", "--max-semi-space-size=16"];

export interface RemoteGc {
  collect(): Promise<void>;
  close(): void;
}

/** Connects to the inspector whose address the process printed ("Debugger listening on ws://…"). */
export async function connectRemoteGc(output: () => string, timeoutMs = 10_000): Promise<RemoteGc> {
  const deadline = Date.now() + timeoutMs;
  const address = () => /Debugger listening on (ws:\/\/\S+)/.exec(output())?.[1];
  let url = address();
  for (; !url; url = address()) {
    if (Date.now() > deadline) throw new Error(`no inspector address in the process output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 1;
  const call = (method: string) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (data: WebSocket.RawData) => {
        const reply = JSON.parse(String(data)) as { id?: number; error?: { message: string } };
        if (reply.id !== id) return;
        ws.off("message", onMessage);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve();
      };
      ws.on("message", onMessage);
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    collect: () => call("HeapProfiler.collectGarbage"),
    close: () => ws.terminate(),
  };
}

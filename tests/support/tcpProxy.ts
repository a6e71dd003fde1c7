/**
 * A TCP proxy in front of a real service, so a test can take PostgreSQL or Redis "down" without
 * touching the shared servers: either refused (cut every connection and refuse new ones) or stalled
 * (a partition where TCP still connects but nothing answers), and bring it back.
 */
import net from "node:net";

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones. */
  cut(): Promise<void>;
  /**
   * A partition: connections are accepted, existing ones stay open, and nothing is forwarded in
   * either direction. Nothing is dropped either: what was sent is held, as TCP retransmission would,
   * and delivered after restore() (unless an end closed that connection meanwhile).
   */
  stall(): Promise<void>;
  /** Forwards again: listens on the same port after a cut, resumes every held connection after a stall. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const links = new Set<Link>();
  let stalled = false;

  const hold = ({ client, upstream }: Link) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const flow = ({ client, upstream }: Link) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const link = { client, upstream };
    links.add(link);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => {
        sockets.delete(s);
        links.delete(link);
      });
      s.on("error", () => s.destroy());
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    if (stalled) hold(link);
    else flow(link);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      if (server.listening) return resolve((server.address() as net.AddressInfo).port);
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);
  const stop = () =>
    new Promise<void>((resolve) => {
      stalled = false;
      for (const s of sockets) s.destroy();
      if (server.listening) server.close(() => resolve());
      else resolve();
    });
  return {
    port,
    cut: stop,
    async stall() {
      await listen(port);
      if (stalled) return;
      stalled = true;
      for (const link of links) hold(link);
    },
    async restore() {
      if (stalled) {
        stalled = false;
        for (const link of links) flow(link);
      }
      await listen(port);
    },
    close: stop,
  };
}

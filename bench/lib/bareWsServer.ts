/**
 * The socketMemory baseline, run as its own process: a bare `ws` server on a Node HTTP server (the
 * same stack our server's realtime hub sits on) with nothing else. It accepts every upgrade, keeps
 * the socket, and answers pings (ws does that by itself). Plain GETs answer 200 so the bench can
 * tell when it is listening. Listens on PORT and HOST.
 */
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const server = createServer((_request, response) => response.writeHead(200).end("ok"));
const wss = new WebSocketServer({ server });
wss.on("connection", (ws) => {
  ws.on("error", () => {});
});
server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
process.on("SIGTERM", () => {
  for (const ws of wss.clients) ws.terminate();
  server.close(() => process.exit(0));
});

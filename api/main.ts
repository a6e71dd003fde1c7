/**
 * `npm start`: parse config, open the backends, seed the embedded demo, serve HTTP, shut down cleanly.
 */
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { ConfigError, loadConfig, type Config } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { openBackends, StartupError, type Backends } from "../infra/backends.ts";
import { createMatchingRuntime } from "../infra/matching.ts";
import { demoMissing, seedDemo } from "../prisma/seed/demo.ts";
import { createApp } from "./app.ts";

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
if (config.jwtSecretIsEphemeral) logger.warn("JWT_SECRET is not set: using a random secret for this process; tokens will not survive a restart");

let backends: Backends;
try {
  backends = await openBackends(config, logger);
} catch (error) {
  if (error instanceof StartupError) logger.fatal(error.message);
  else logger.fatal({ err: error }, "could not open the backends");
  process.exit(1);
}

if (config.seedDemo && (await demoMissing(backends.database.prisma))) {
  const { inserted } = await seedDemo(backends.database.prisma);
  logger.info({ inserted }, "seeded demo data");
}

const matching = await createMatchingRuntime(backends, logger);
const app = createApp({ config, logger, backends });
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logger.info({ port: info.port, host: config.host, devAuth: config.devAuth }, `listening on http://${config.host}:${info.port}`);
  matching.start();
}) as Server;

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  const forced = setTimeout(() => {
    logger.warn({ timeoutMs: config.shutdownTimeoutMs }, "in-flight work did not finish in time; closing connections");
    server.closeAllConnections();
  }, config.shutdownTimeoutMs);
  forced.unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  clearTimeout(forced);
  await matching.stop();
  await backends.close();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

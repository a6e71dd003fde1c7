/** `npm start`: parse config, start the server, stop cleanly on SIGTERM or SIGINT. */
import { ConfigError, loadConfig, type Config } from "../core/config.ts";
import { createLogger } from "../core/logger.ts";
import { StartupError } from "../platform/backends.ts";
import { startServer, type RunningServer } from "./server.ts";

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

let server: RunningServer;
try {
  server = await startServer(config, logger);
} catch (error) {
  if (error instanceof StartupError) {
    // The one line a user acts on; the driver's detail (stack, codes) only at debug level.
    if (error.cause !== undefined) logger.debug({ err: error.cause }, "start-up failure detail");
    logger.fatal(error.message);
  } else logger.fatal({ err: error }, "could not start");
  process.exit(1);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  try {
    await server.stop();
    logger.info("stopped");
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

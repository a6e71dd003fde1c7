/**
 * An in-process API server on a private, migrated PostgreSQL database and a private Redis prefix,
 * with a direct database handle for checking what the API wrote, an admin client, and cleanup of
 * sockets, server, handle and database. For suites that read whole tables (event log, audit) and
 * must not see rows of suites running alongside.
 */
import { startServer } from "../../app/server.ts";
import { loadConfig } from "../../core/config.ts";
import { createLogger } from "../../core/logger.ts";
import { openPostgres, type Database } from "../../platform/database.ts";
import { ApiClient, type RecordingSocket } from "./apiClient.ts";
import { createScratchDatabase } from "./scratchDatabase.ts";
import { TEST_REDIS_URL, testKeyPrefix, uniqueTag } from "./services.ts";

export interface ScratchServer {
  api: ApiClient;
  admin: ApiClient;
  database: Database;
  /** Opens a socket that is closed with the server. */
  socketOf(client: ApiClient): Promise<RecordingSocket>;
  stop(): Promise<void>;
}

/** `env`: further settings for the server (e.g. a tighter bound), over the defaults below. */
export async function startScratchServer(adminSubject: string, env: Record<string, string> = {}): Promise<ScratchServer> {
  const scratch = await createScratchDatabase();
  const database = await openPostgres(scratch.url, { poolSize: 2 });
  const server = await startServer(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      DEV_AUTH: "true",
      SEED_DEMO: "false",
      JWT_SECRET: `scratch-${uniqueTag()}`.padEnd(32, "x"),
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testKeyPrefix(),
      ...env,
    }),
    createLogger("silent"),
  );
  const api = new ApiClient(`http://127.0.0.1:${server.port}`);
  const admin = api.as(await api.devToken(adminSubject, "admin"));
  const sockets: RecordingSocket[] = [];
  return {
    api,
    admin,
    database,
    async socketOf(client) {
      const socket = await client.socket();
      sockets.push(socket);
      return socket;
    },
    async stop() {
      for (const socket of sockets) socket.close();
      await server.stop();
      await database.close();
      await scratch.drop();
    },
  };
}

/**
 * Everything a dispatch load test runs against: our API (scratch database, own Redis prefix), a
 * branch of available advisors with their sockets open, and clients. `withDispatchWorld` builds it,
 * hands it over and tears all of it down afterwards, whether the test passed or threw.
 */
import { startBenchApi, type BenchApiServer } from "./apiServer.ts";
import { createBenchDirectory, keepAdvisorsAvailable, type BenchDirectory } from "./directorySetup.ts";
import type { BenchContext } from "./harness.ts";
import { OfferInbox } from "./offerInbox.ts";

export interface DispatchWorld {
  baseUrl: string;
  directory: BenchDirectory;
  inbox: OfferInbox;
  /** The server process and its private database and Redis prefix. */
  api: BenchApiServer;
}

export interface DispatchWorldOptions {
  /** Names the run's Redis prefix and log lines, e.g. the suite's name. */
  label: string;
  advisors: number;
  maxConcurrent: number;
  clients: number;
  /** Extra node flags and environment for the server process (e.g. a counting preload). */
  server?: { nodeArgs?: string[]; env?: Record<string, string> };
}

export async function withDispatchWorld<T>(context: BenchContext, options: DispatchWorldOptions, use: (world: DispatchWorld) => Promise<T>): Promise<T> {
  context.log(`${options.label}: starting our API (scratch database, own Redis prefix)`);
  const api = await startBenchApi(context, { label: options.label, ...options.server });
  let inbox: OfferInbox | undefined;
  let stopHeartbeats = () => {};
  try {
    const directory = await createBenchDirectory(api.baseUrl, { ...options, log: context.log });
    inbox = await OfferInbox.open(api.baseUrl, directory.advisors);
    stopHeartbeats = await keepAdvisorsAvailable(api.baseUrl, directory.advisors);
    return await use({ baseUrl: api.baseUrl, directory, inbox, api });
  } finally {
    stopHeartbeats();
    inbox?.close();
    await api.close();
  }
}

/**
 * What one process's matching runtime offers the API and the jobs: the engine and its store,
 * records, bus, clock and journal. app/matching.ts builds it from the backends.
 */
import type { Clock } from "../core/clock.ts";
import type { MatchingEngine } from "./engine/engine.ts";
import type { EventBus } from "./events.ts";
import type { Journal } from "./journal/port.ts";
import type { Persister } from "./journal/persister.ts";
import type { MatchingRecords } from "./records/port.ts";
import type { MatchingStore } from "./store/port.ts";

export interface MatchingRuntime {
  engine: MatchingEngine;
  records: MatchingRecords;
  bus: EventBus;
  store: MatchingStore;
  /** The clock the engine decides by (services acting next to the engine use the same one). */
  clock: Clock;
  /** A heartbeat older than this counts as offline: for eligibility, the presence sweep and metrics alike. */
  presenceTtlMs: number;
  /** The decision journal and this process's persister, which writes it to PostgreSQL. */
  journal: Journal;
  persister: Persister;
  /** Starts the sweeper; call once the HTTP server is up. */
  start(): void;
  /** Stops the sweeper and waits for a pass in progress. */
  stop(): Promise<void>;
}

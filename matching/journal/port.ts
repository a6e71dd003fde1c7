/**
 * The decision journal: what the live store decided, on its way to PostgreSQL.
 *
 * Every engine transition appends one entry (the request's state after the decision, the offers it
 * changed and the domain events describing it). Persisters take entries in batches, write each
 * batch to PostgreSQL in one transaction, and acknowledge them only after the commit, so a
 * decision reaches the record exactly once in effect, whatever fails in between: the writes are
 * idempotent and monotonic (a request row only moves to a higher revision), so an entry applied
 * twice, or after a newer one, changes nothing.
 *
 * Two adapters: a Redis Stream with a consumer group (every server process runs a persister; an
 * entry held by a consumer that died is claimed by another after a timeout), and an in-process
 * twin for the embedded single-process mode.
 */
import type { RecordedDecision } from "../records/port.ts";

/** A journal entry is one decision as the record takes it. */
export type JournalEntry = RecordedDecision;

/** An entry as a persister holds it. */
export interface Delivered {
  id: string;
  entry: JournalEntry;
}

export interface JournalLag {
  /** Entries appended and not yet acknowledged (persisted). */
  entries: number;
  /** Age of the oldest of them in ms, 0 when there is none. */
  oldestMs: number;
}

export interface Journal {
  readonly kind: "redis" | "memory";

  /** Appends an entry; resolves with its id once it is durable in the journal. */
  append(entry: JournalEntry): Promise<string>;

  /**
   * Up to `count` entries for `consumer` to persist, oldest first: first those it was given before
   * and has not acknowledged (a failed batch is retried), then those another consumer has held for
   * at least `idleMs` (it died), then new ones. An entry is given to one consumer at a time.
   *
   * With `idleMs` 0 it takes over every entry another consumer holds, alive or not (the rebuild
   * does this: PostgreSQL must hold every journaled decision before the live state is rebuilt from
   * it). The previous holder may still persist and acknowledge it too; the writes are idempotent and
   * a repeated acknowledgement is a no-op.
   */
  take(consumer: string, count: number, idleMs: number): Promise<Delivered[]>;

  /**
   * True while entry `id` is in the journal (appended, not yet acknowledged). An entry that is
   * neither here nor known to be persisted was lost with the journal (Redis lost its data).
   */
  contains(id: string): Promise<boolean>;

  /** Acknowledges persisted entries: they are never given out again. Idempotent. */
  ack(ids: string[]): Promise<void>;

  /** How far persistence trails the decisions (for backpressure and metrics). */
  lag(now: number): Promise<JournalLag>;

  /**
   * Calls `listener` with the ids of entries some persister (on any process) has just committed,
   * so a caller waiting on its own decision can go on. Returns the unsubscribe function.
   */
  onPersisted(listener: (ids: string[]) => void): Promise<() => Promise<void>>;

  /** Tells every process's listeners that these entries are persisted. */
  announcePersisted(ids: string[]): Promise<void>;

  close(): Promise<void>;
}

/**
 * How the engine records a decision. The journal recorder appends the entry and waits (bounded) for
 * a persister to commit it, so callers normally read their own writes from PostgreSQL, while a
 * database outage only delays the record instead of failing the decision. The direct recorder
 * writes the entry inline (engine tests, tools).
 */
import { LiveStateUnavailableError } from "../store/port.ts";
import type { Persister } from "./persister.ts";
import type { Journal, JournalEntry } from "./port.ts";

export interface Recorder {
  /** Durable (in the journal or the record) when this resolves. */
  record(entry: JournalEntry): Promise<void>;
  /**
   * For a decision whose store step already appended its entry (`journalId`): waits for it as
   * record does after appending. With journalId null (a store that does not journal), records it.
   */
  settle(entry: JournalEntry, journalId: string | null): Promise<void>;
  /** True when persistence trails so far behind that new requests should be refused for now. */
  overloaded(): Promise<boolean>;
}

export function directRecorder(apply: (entries: JournalEntry[]) => Promise<void>): Recorder {
  return {
    record: (entry) => apply([entry]),
    settle: (entry) => apply([entry]),
    overloaded: async () => false,
  };
}

export interface JournalRecorderOptions {
  journal: Journal;
  persister: Persister;
  /** How long a decision waits for its entry to be persisted before answering anyway. */
  waitMs: number;
  /** Backpressure bounds: more unpersisted entries than this, or an oldest one older than this. */
  maxLagEntries: number;
  maxLagMs: number;
}

export function journalRecorder(options: JournalRecorderOptions): Recorder {
  const { journal, persister } = options;
  const recorder: Recorder = {
    async record(entry) {
      await recorder.settle(entry, await journal.append(entry));
    },
    async settle(entry, journalId) {
      if (journalId === null) return recorder.record(entry);
      const id = journalId;
      persister.wake();
      // Bounded: during an outage the decision stands and its record follows when the database is back.
      if (await persister.waitFor(id, options.waitMs)) return;
      // Not persisted yet: fine while the entry waits in the journal. Gone from it unpersisted, it
      // was lost with the live state (Redis lost its data), which is rebuilt from the record without
      // this decision: the caller must not be told it stands.
      if (!persister.hasPersisted(id) && !(await journal.contains(id)) && !persister.hasPersisted(id)) {
        throw new LiveStateUnavailableError(`record ${entry.requestId}`, "the decision's journal entry was lost with the live state");
      }
    },
    async overloaded() {
      const lag = await persister.lag();
      return lag.entries > options.maxLagEntries || lag.oldestMs > options.maxLagMs;
    },
  };
  return recorder;
}

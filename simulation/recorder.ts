/**
 * How the simulated day records decisions: in batches, as production's journal persisters do,
 * instead of one transaction per decision (which made a 10,000-request day take minutes on PGlite).
 * The rows are the production records adapter's (MatchingRecords.applyJournal, idempotent and
 * monotonic per request, so a batch leaves the same rows as its entries one by one).
 *
 * What lags behind: the record only. The engine decides on the live store; of the record it reads
 * clients, advisors and policies (written before the day starts), and the waiting count behind an
 * accept's surge flag, which in production also trails the journal by its persisting lag.
 */
import type { JournalEntry } from "../matching/journal/port.ts";
import type { Recorder } from "../matching/journal/recorder.ts";

export interface BatchRecorder extends Recorder {
  /** Writes everything buffered. */
  flush(): Promise<void>;
}

export function batchRecorder(apply: (entries: JournalEntry[]) => Promise<void>, batchSize = 500): BatchRecorder {
  let buffer: JournalEntry[] = [];
  const recorder: BatchRecorder = {
    async record(entry) {
      buffer.push(entry);
      if (buffer.length >= batchSize) await recorder.flush();
    },
    settle: (entry) => recorder.record(entry),
    overloaded: async () => false,
    async flush() {
      const batch = buffer;
      buffer = [];
      if (batch.length) await apply(batch);
    },
  };
  return recorder;
}

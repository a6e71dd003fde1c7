/**
 * The in-process journal for the embedded mode (one process): entries in order, each given to one
 * consumer until acknowledged, given again to another once it has been held for `idleMs`.
 */
import type { Delivered, Journal, JournalEntry } from "./port.ts";

interface Held {
  id: string;
  entry: JournalEntry;
  appendedAt: number;
  consumer: string | null;
  takenAt: number;
}

export function createMemoryJournal(clock: () => number = Date.now): Journal {
  const entries = new Map<string, Held>();
  const listeners = new Set<(ids: string[]) => void>();
  let seq = 0;

  return {
    kind: "memory",

    async append(entry) {
      const id = `${clock()}-${++seq}`;
      // A structured copy: the caller's objects may change after the decision; the journal keeps what was decided.
      entries.set(id, { id, entry: structuredClone(entry), appendedAt: clock(), consumer: null, takenAt: 0 });
      return id;
    },

    async take(consumer, count, idleMs) {
      const now = clock();
      const mine: Held[] = [];
      const stale: Held[] = [];
      const fresh: Held[] = [];
      for (const held of entries.values()) {
        if (held.consumer === consumer) mine.push(held);
        else if (held.consumer !== null && now - held.takenAt >= idleMs) stale.push(held);
        else if (held.consumer === null) fresh.push(held);
      }
      // As the Redis adapter: a consumer's own unacknowledged entries first, alone; else others' stale ones; else new ones.
      const chosen = (mine.length ? mine : stale.length ? stale : fresh).slice(0, count);
      for (const held of chosen) {
        held.consumer = consumer;
        held.takenAt = now;
      }
      return chosen.map((held): Delivered => ({ id: held.id, entry: held.entry }));
    },

    async contains(id) {
      return entries.has(id);
    },

    async ack(ids) {
      for (const id of ids) entries.delete(id);
    },

    async lag(now) {
      let oldest = now;
      for (const held of entries.values()) oldest = Math.min(oldest, held.appendedAt);
      return { entries: entries.size, oldestMs: entries.size ? now - oldest : 0 };
    },

    async onPersisted(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },

    async announcePersisted(ids) {
      for (const listener of listeners) listener(ids);
    },

    async close() {},
  };
}

/**
 * A persister: takes journal entries in batches, writes each batch to PostgreSQL in one
 * transaction (`apply`), and acknowledges the entries only after the commit. Every server process
 * runs one; together they drain the journal, and an entry held by a process that died is taken over
 * after `idleMs`.
 *
 * A failed batch stays with this persister and is retried first, with a growing pause, so a
 * database outage delays persistence but loses nothing. A batch that keeps failing for a reason
 * that is not an outage (a poison entry) is split, and an entry that fails alone is set aside
 * (logged with its content, acknowledged): the reconciler repairs what it would have written.
 */
import { failpoint } from "../../core/failpoints.ts";
import type { Journal, JournalEntry, JournalLag } from "./port.ts";

export interface PersisterOptions {
  journal: Journal;
  /** Writes the entries in one transaction; idempotent and monotonic (see records applyJournal). */
  apply: (entries: JournalEntry[]) => Promise<void>;
  /** This process's consumer name, unique among the processes sharing the journal. */
  consumer: string;
  batchSize?: number;
  /** How long another consumer may hold an entry before this one takes it over. */
  idleMs?: number;
  /** How often to look for work when nothing woke it (entries other processes appended). */
  pollMs?: number;
  /** True for errors that mean "the database is unavailable": retried, never set aside. */
  isTransient?: (error: unknown) => boolean;
  onError?: (error: unknown, context: string, detail?: unknown) => void;
  clock?: () => number;
}

const MAX_BACKOFF_MS = 2_000;
/** Failures of the same batch before it is split to find a poison entry. */
const SPLIT_AFTER_FAILURES = 3;
/** Ids remembered as persisted, so a late waiter still resolves at once. */
const REMEMBERED = 10_000;

export class Persister {
  private readonly journal: Journal;
  private readonly apply: (entries: JournalEntry[]) => Promise<void>;
  private readonly consumer: string;
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly pollMs: number;
  private readonly isTransient: (error: unknown) => boolean;
  private readonly onError: (error: unknown, context: string, detail?: unknown) => void;
  private readonly clock: () => number;

  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly persisted = new Set<string>();
  private unsubscribe: (() => Promise<void>) | null = null;
  private failures = 0;
  private lastLag: JournalLag = { entries: 0, oldestMs: 0 };
  private lastLagAt = 0;

  constructor(options: PersisterOptions) {
    this.journal = options.journal;
    this.apply = options.apply;
    this.consumer = options.consumer;
    this.batchSize = options.batchSize ?? 200;
    this.idleMs = options.idleMs ?? 10_000;
    this.pollMs = options.pollMs ?? 100;
    this.isTransient = options.isTransient ?? (() => false);
    this.onError = options.onError ?? (() => {});
    this.clock = options.clock ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = await this.journal.onPersisted((ids) => this.settle(ids));
    this.loop = this.run();
  }

  /** Stops taking new batches and waits for the one in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Something was appended on this process: look now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Resolves true once entry `id` is persisted (by any process), false after `timeoutMs`. */
  waitFor(id: string, timeoutMs: number): Promise<boolean> {
    if (this.persisted.has(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(id);
        if (list) {
          const left = list.filter((w) => w !== done);
          if (left.length) this.waiters.set(id, left);
          else this.waiters.delete(id);
        }
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const list = this.waiters.get(id) ?? [];
      list.push(done);
      this.waiters.set(id, list);
    });
  }

  /**
   * The journal's lag, read at most every `maxAgeMs` (it is asked on every request creation).
   */
  async lag(maxAgeMs = 250): Promise<JournalLag> {
    const now = this.clock();
    if (now - this.lastLagAt >= maxAgeMs) {
      this.lastLag = await this.journal.lag(now);
      this.lastLagAt = now;
    }
    return this.lastLag;
  }

  /** Persists everything this process can take now (tests, shutdown): until a take finds nothing. */
  async drainOnce(): Promise<void> {
    while ((await this.step(this.idleMs)) > 0);
  }

  /**
   * Persists every entry in the journal now, taking over those other consumers hold even when they
   * are alive (a batch they are writing is written twice, which the record absorbs), until a take
   * finds nothing. The rebuild runs this before reading the record. Throws when the record cannot
   * be written: the rebuild must then wait.
   */
  async drainAll(): Promise<void> {
    while ((await this.step(0)) > 0);
  }

  /** True when this process knows entry `id` was persisted (by any process). */
  hasPersisted(id: string): boolean {
    return this.persisted.has(id);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let done = 0;
      try {
        done = await this.step(this.idleMs);
      } catch (error) {
        this.failures++;
        this.onError(error, "journal persistence failed; the batch will be retried");
        await this.pause(Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.failures, 6)));
        continue;
      }
      if (done === 0) await this.pause(this.pollMs);
    }
  }

  /** One batch: take, write, acknowledge, announce. Returns how many entries it persisted. */
  private async step(idleMs: number): Promise<number> {
    const batch = await this.journal.take(this.consumer, this.batchSize, idleMs);
    if (!batch.length) return 0;
    try {
      await this.apply(batch.map((d) => d.entry));
    } catch (error) {
      if (this.isTransient(error) || this.failures < SPLIT_AFTER_FAILURES) throw error;
      await this.applyOneByOne(batch);
      return batch.length;
    }
    const ids = batch.map((d) => d.id);
    // Committed: the deciding callers may answer now. The acknowledgement is bookkeeping (an entry
    // taken again after a crash here is applied again, which changes nothing), so it does not hold
    // them up, and the other processes hear of it at the same time.
    this.settle(ids);
    failpoint("persister.before-ack");
    await Promise.all([
      this.journal.ack(ids),
      this.journal.announcePersisted(ids).catch((error) => this.onError(error, "announcing persisted entries failed")),
    ]);
    this.failures = 0;
    return batch.length;
  }

  /** A batch that keeps failing: persist what can be, set aside what cannot. */
  private async applyOneByOne(batch: Array<{ id: string; entry: JournalEntry }>): Promise<void> {
    for (const { id, entry } of batch) {
      try {
        await this.apply([entry]);
      } catch (error) {
        if (this.isTransient(error)) throw error;
        this.onError(error, "journal entry set aside: it cannot be persisted (the reconciler repairs the record)", { id, entry });
      }
      await this.journal.ack([id]);
      this.settle([id]);
    }
    this.failures = 0;
  }

  private settle(ids: string[]): void {
    for (const id of ids) {
      this.persisted.add(id);
      const list = this.waiters.get(id);
      if (list) {
        this.waiters.delete(id);
        for (const done of list) done();
      }
    }
    if (this.persisted.size > REMEMBERED) {
      const drop = this.persisted.size - REMEMBERED;
      let i = 0;
      for (const id of this.persisted) {
        if (i++ >= drop) break;
        this.persisted.delete(id);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve();
      };
    });
  }
}

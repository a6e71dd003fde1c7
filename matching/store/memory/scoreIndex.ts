/**
 * An ordered set of ids, each with a numeric score, kept sorted by (score, id): the in-memory
 * counterpart of a Redis sorted set. It backs the candidate lookup, the deadlines, the queue and the
 * retention of terminal requests, which all need "the first few in order" without scanning.
 *
 * A sorted array with binary search: reading the head is O(limit) and insert/remove are
 * O(log n) comparisons plus one splice (a memmove), which beats a tree at the sizes a single process
 * holds and keeps iteration trivially in order.
 */

export interface ScoredId {
  readonly score: number;
  readonly id: string;
}

/** Code-unit order, not localeCompare: ties must break the same way on every host and in Redis. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareScored(a: ScoredId, b: ScoredId): number {
  return a.score - b.score || compareIds(a.id, b.id);
}

export class ScoreIndex {
  private readonly entries: ScoredId[] = [];
  /** id -> score, so callers can move or remove an id without remembering its old score. */
  private readonly scores = new Map<string, number>();

  get size(): number {
    return this.entries.length;
  }

  has(id: string): boolean {
    return this.scores.has(id);
  }

  scoreOf(id: string): number | undefined {
    return this.scores.get(id);
  }

  /** Adds `id` with `score`, or moves it there. */
  set(id: string, score: number): void {
    const previous = this.scores.get(id);
    if (previous === score) return;
    if (previous !== undefined) this.removeEntry({ score: previous, id });
    const entry = { score, id };
    this.entries.splice(this.lowerBound(entry), 0, entry);
    this.scores.set(id, score);
  }

  delete(id: string): boolean {
    const previous = this.scores.get(id);
    if (previous === undefined) return false;
    this.removeEntry({ score: previous, id });
    this.scores.delete(id);
    return true;
  }

  /** The entry at `position` in (score, id) order; undefined past the end. */
  at(position: number): ScoredId | undefined {
    return this.entries[position];
  }

  /** The first `limit` ids in order. */
  head(limit: number): string[] {
    return this.entries.slice(0, Math.max(0, limit)).map((entry) => entry.id);
  }

  /** The first `limit` entries whose score is <= `maxScore`, in order. */
  headUpTo(maxScore: number, limit: number): ScoredId[] {
    const result: ScoredId[] = [];
    for (const entry of this.entries) {
      if (result.length >= limit || entry.score > maxScore) break;
      result.push(entry);
    }
    return result;
  }

  /** How many entries have a score >= `minScore` (binary search, no scan). */
  countFrom(minScore: number): number {
    // "" sorts before every id, so this is the first position whose score is >= minScore.
    return this.entries.length - this.lowerBound({ score: minScore, id: "" });
  }

  clear(): void {
    this.entries.length = 0;
    this.scores.clear();
  }

  /** First position whose entry is >= `entry`. */
  private lowerBound(entry: ScoredId): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareScored(this.entries[middle]!, entry) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private removeEntry(entry: ScoredId): void {
    const position = this.lowerBound(entry);
    const found = this.entries[position];
    if (found && found.id === entry.id) this.entries.splice(position, 1);
  }
}

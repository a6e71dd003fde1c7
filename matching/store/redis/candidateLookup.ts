/**
 * The candidate lookup on Redis (MatchingStore.findCandidates): merge the heads of the query's scope
 * lists by (lastAssignedAt, id), read the merged advisors' documents, keep those whose document
 * still belongs in a queried list, until `limit` are kept or every list is read to its end.
 *
 * Round trips. The documents can only be asked for once the heads say who is first, so a lookup
 * costs two round trips, heads then documents. But the heads change slowly: an advisor moves back
 * only when assigned (the score is the time of the last assignment), and leaves or joins a list
 * when their presence, capacity or profile changes, so a lookup mostly merges the advisors the
 * previous lookup of the same query merged. Each lookup therefore remembers who it merged, and how
 * far into each list, and the next lookup of that query reads those documents in the heads' own
 * round trip, asking each list for about as many heads as it took then; only advisors it did not
 * foresee cost a second trip. A guess decides nothing: the merge order comes from the heads read
 * now, and every document used was read after the head it serves, as without the guess (in the
 * head's round trip, sent after it, or in a later one).
 * Measured at 100k advisors (national pool, 80 candidates): 1 round trip instead of 2, and the
 * selection's median about two thirds of what it was.
 *
 * Through a tracking connection (trackedDocs.ts) a document the connection kept is not read at all:
 * once the heads' replies are in with no invalidation of it before them, it is at least as new as
 * the heads, so a repeated lookup is the heads' round trip alone (national selection at 100k
 * advisors about 0.7x of the time above).
 */
import { LRUCache } from "lru-cache";
import type { AdvisorState, CandidateQuery } from "../port.ts";
import { matchesCandidateQuery } from "../candidateMembership.ts";
import type { Doc } from "./decode.ts";
import { readScoredRange, type ScoredMember } from "./rawReads.ts";
import type { RedisClient } from "../../../platform/redis.ts";

/**
 * Queries whose last merge is remembered, least recently used dropped first: up to about 5 KB each
 * at the usual limits (32 to 80 ids), 20 KB at the largest remembered one.
 */
export const REMEMBERED_QUERIES = 1_000;
/**
 * Lookups wider than this are not remembered: only a widened lookup (offering.ts) asks for more, it
 * is rare, and its thousands of ids would be most of the memory.
 */
export const MAX_REMEMBERED_LIMIT = 320;

/** A list's first read after a lookup of the same query: what the merge took from it then, plus a quarter. */
const FIRST_READ_MARGIN = 1.25;

/** The heads past the merge that a lookup also remembers: an eighth of the limit. */
const SPARE_DIVISOR = 8;

/** What the last lookup of a query did: whom it merged, in order, and how many entries it took from each list. */
interface LastLookup {
  merged: string[];
  taken: number[];
}

/**
 * Reads advisors' documents (StoreContext.loadCandidates). `pin`: settles once the replies of the
 * heads the documents serve are in (sent on the same connection just before, or already received):
 * a tracked read whose documents are all kept needs no command of its own.
 */
type LoadCandidates = (advisorIds: string[], pin?: Promise<unknown>) => Promise<Array<Doc<AdvisorState> | null>>;

interface Cursor {
  key: string;
  /** Entries to ask for at the next read. */
  chunk: number;
  /** Entries read so far, and how many of those the merge has taken. */
  offset: number;
  taken: number;
  done: boolean;
  /** The entries read and not yet taken are rows[next..], read in round trip `trip`. */
  rows: ScoredMember[];
  next: number;
  trip: number;
}

/** A trip that reads no heads: every head its documents serve came in an earlier trip's replies. */
const HEADS_IN: Promise<unknown> = Promise.resolve();

/** A list whose read entries are all taken and that may hold more. */
const isDry = (cursor: Cursor) => !cursor.done && cursor.next === cursor.rows.length;

/**
 * The k-way merge over the scope lists' heads. A list's first read asks for `firstChunks[i]`
 * entries, later reads for `chunk`.
 */
function scopeMerge(client: RedisClient, scopeKeys: string[], firstChunks: number[], chunk: number) {
  const cursors: Cursor[] = scopeKeys.map((key, i) => ({ key, chunk: firstChunks[i]!, offset: 0, taken: 0, done: false, rows: [], next: 0, trip: 0 }));
  const seen = new Set<string>();
  return {
    /**
     * Reads the next heads of every list that ran dry (none when none did), in round trip `trip`. The
     * commands are sent when this is called, before any awaited.
     */
    refill: (trip: number) =>
      Promise.all(
        cursors.filter(isDry).map(async (cursor) => {
          const rows = await readScoredRange(client, cursor.key, cursor.offset, cursor.offset + cursor.chunk - 1);
          if (rows.length < cursor.chunk) cursor.done = true;
          cursor.offset += rows.length;
          cursor.chunk = chunk;
          cursor.rows = rows;
          cursor.next = 0;
          cursor.trip = trip;
        }),
      ),
    /**
     * Up to `wanted` advisors not merged before, in order, with the round trip each one's head was
     * read in. `blocked`: the merge stopped at a list that ran dry and needs a refill to go on;
     * otherwise fewer than wanted means every list ended.
     */
    next(wanted: number): { ids: string[]; trips: number[]; blocked: boolean } {
      const ids: string[] = [];
      const trips: number[] = [];
      // Only the list just taken from can run dry in the loop, so the others are checked once here.
      if (cursors.some(isDry)) return { ids, trips, blocked: true };
      while (ids.length < wanted) {
        let best: Cursor | undefined;
        let top: ScoredMember | undefined;
        for (const cursor of cursors) {
          const head = cursor.rows[cursor.next];
          if (!head) continue;
          if (!top || head.score < top.score || (head.score === top.score && head.value < top.value)) {
            best = cursor;
            top = head;
          }
        }
        if (!best || !top) break;
        best.next += 1;
        best.taken += 1;
        if (!seen.has(top.value)) {
          seen.add(top.value);
          ids.push(top.value);
          trips.push(best.trip);
        }
        if (isDry(best)) return { ids, trips, blocked: ids.length < wanted };
      }
      return { ids, trips, blocked: false };
    },
    /** How many entries the merge took from each list. */
    taken: () => cursors.map((cursor) => cursor.taken),
  };
}

export interface CandidateLookup {
  find(query: CandidateQuery, scopeKeys: string[]): Promise<AdvisorState[]>;
}

export function createCandidateLookup(client: RedisClient, loadCandidates: LoadCandidates): CandidateLookup {
  const lastLookups = new LRUCache<string, LastLookup>({ max: REMEMBERED_QUERIES });
  const remember = (query: string, last: LastLookup) => void lastLookups.set(query, last);

  return {
    async find(query, scopeKeys) {
      const limit = Math.ceil(query.limit);
      // Each scope list is read a share at a time (twice the even split): the merge needs only `limit`
      // heads in all, and every entry parsed costs more than a rare extra round trip.
      const chunk = Math.min(Math.max(16, Math.ceil((2 * limit) / scopeKeys.length)), limit, 1000);
      const memo = `${limit}|${scopeKeys.join("|")}`;
      const last = lastLookups.get(memo);
      // After a lookup of the same query, each list's first read asks for what the merge took from it
      // then, and a margin: the heads move a little between lookups, and a short read costs a trip.
      const firstChunks = scopeKeys.map((_, i) => (last ? Math.min(chunk, Math.ceil(last.taken[i]! * FIRST_READ_MARGIN) + 4) : chunk));
      const merge = scopeMerge(client, scopeKeys, firstChunks, chunk);
      // Each document read, with the round trip it was read in: it serves a head read in that trip or
      // an earlier one, never a later one (a lookup never judges a head by an older document).
      const read = new Map<string, { state: AdvisorState | null; trip: number }>();
      const merged: string[] = [];
      const result: AdvisorState[] = [];
      let pending: string[] = [];
      let toRead = last?.merged ?? [];
      let blocked = true;
      let trip = 0;
      for (;;) {
        // One round trip: the heads of the lists that ran dry, then the documents still to read (sent
        // in that order, so Redis reads each document after the head it serves).
        if (toRead.length > 0 || blocked) {
          trip += 1;
          // The documents must be at least as new as the heads they serve: this trip's heads when a
          // list is read again, else heads whose replies are already in (HEADS_IN).
          const heads = blocked ? merge.refill(trip) : HEADS_IN;
          const [, docs] = await Promise.all([heads, loadCandidates(toRead, heads)]);
          for (const [i, id] of toRead.entries()) read.set(id, { state: docs[i]?.value ?? null, trip });
        }
        // The index is a hint: keep only advisors whose current document still belongs in a queried set.
        for (const id of pending) {
          const state = read.get(id)?.state;
          if (state && result.length < limit && matchesCandidateQuery(state, query) && state.profile.suitabilityMaxRisk >= query.minRisk) result.push(state);
        }
        if (result.length >= limit) break;
        const next = merge.next(limit - result.length);
        pending = next.ids;
        blocked = next.blocked;
        merged.push(...pending);
        toRead = [];
        for (const [i, id] of pending.entries()) if ((read.get(id)?.trip ?? 0) < next.trips[i]!) toRead.push(id);
        // Nothing merged and no list to read again: every list was read to its end.
        if (pending.length === 0 && !blocked) break;
      }
      if (limit <= MAX_REMEMBERED_LIMIT) {
        const taken = merge.taken();
        // The next few heads already read, in merge order: when an advisor leaves the top (assigned,
        // gone away, full), the next lookup's newcomer is among them and costs no second trip.
        const spare = merge.next(Math.ceil(limit / SPARE_DIVISOR)).ids;
        // Beyond the limit only stale entries were merged: a quarter more covers a few of those.
        remember(memo, { merged: [...merged.slice(0, Math.ceil(limit * FIRST_READ_MARGIN) + 16), ...spare], taken });
      }
      return result;
    },
  };
}

/**
 * Decoded documents, reused while a document's stored text is unchanged. A hit compares the whole
 * stored text, so a changed document is always decoded afresh, and a read never sees an older
 * state than Redis holds.
 *
 * Two uses. The candidate lookup (findCandidates) reads the heads of the candidate lists, and the
 * same heads come back lookup after lookup until those advisors are assigned or heartbeat; decoding
 * their documents (JSON.parse and the zod check) was about 0.5 ms of a national lookup's 1.4 ms at
 * 100k advisors. And every accept reads its request first (the engine's early answers and the
 * events' context): a grab's 20 accepts read the same text of a request with 20 offers, and decoding
 * it each time was the largest part of the matchingCore grabs' Node time, which had become their
 * bound.
 *
 * The cached documents are deeply frozen: readers share them, so a caller that tried to change one
 * would throw (ES modules run in strict mode) rather than corrupt the others' view. Requests are
 * kept only from a text's second read on (DecodedCacheOptions).
 */
import { LRUCache } from "lru-cache";
import type { AdvisorState, LiveRequest } from "../port.ts";
import { decodeAdvisor, decodeRequest, type Doc } from "./decode.ts";

/**
 * Advisors kept, least recently used dropped first: about 2.5 KB each (the text and the decoded
 * state), so about 25 MB at most per process.
 */
export const CANDIDATE_CACHE_ENTRIES = 10_000;
/**
 * Requests noted: up to about 20 KB each with 20 offers (text and decoded), so about 20 MB at most;
 * an accept reads a request that was just offered, so recent ones are what matter.
 */
export const REQUEST_CACHE_ENTRIES = 1_000;

export interface DecodedCache<T extends object> {
  /** The decoded document of `id` as `raw` holds it (null for a missing one). */
  decode(id: string, raw: string | null): Doc<T> | null;
  /**
   * The stored text a document this cache handed out was decoded from (undefined for any other
   * object), for as long as the document is referenced: makeOffers sends an advisor's so that the
   * script can tell whether the advisor is still exactly as judged (OfferRoundInput's judged).
   */
  textOf(value: T): string | undefined;
  readonly size: number;
}

export interface DecodedCacheOptions {
  /**
   * Keep a decoded document only from the second read of the same text on; the first read only
   * notes the text. For requests: each step of a dispatched request changes its text, so keeping
   * every decoded request would hold objects that are never read again (and that the garbage
   * collector then has to promote), while a grab's accepts read one text twenty times.
   */
  keepOnRepeat?: boolean;
}

export function createDecodedCache<T extends object>(
  decodeText: (raw: string) => Doc<T> | null,
  capacity: number,
  options: DecodedCacheOptions = {},
): DecodedCache<T> {
  // doc null: the text was read once and not kept (keepOnRepeat). Least recently used dropped first.
  const entries = new LRUCache<string, { raw: string; doc: Doc<T> | null }>({ max: capacity });
  // Beside the entries, not in them: a document outlives its entry while a caller still holds it.
  const texts = new WeakMap<T, string>();
  const forget = (id: string): null => {
    entries.delete(id);
    return null;
  };
  return {
    decode(id, raw) {
      // Gone, or (below) no longer a document: nothing of it is kept.
      if (raw === null) return forget(id);
      const hit = entries.get(id);
      if (hit?.raw === raw && hit.doc) return hit.doc;
      const doc = decodeText(raw);
      if (!doc) return forget(id);
      const keep = !options.keepOnRepeat || hit?.raw === raw;
      if (keep) {
        deepFreeze(doc.value);
        texts.set(doc.value, raw);
      }
      entries.set(id, { raw, doc: keep ? doc : null });
      return doc;
    },
    textOf(value) {
      return texts.get(value);
    },
    get size() {
      return entries.size;
    },
  };
}

export const createCandidateCache = (capacity = CANDIDATE_CACHE_ENTRIES): DecodedCache<AdvisorState> => createDecodedCache(decodeAdvisor, capacity);
export const createRequestCache = (capacity = REQUEST_CACHE_ENTRIES): DecodedCache<LiveRequest> =>
  createDecodedCache(decodeRequest, capacity, { keepOnRepeat: true });

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  for (const item of Object.values(value)) deepFreeze(item);
  Object.freeze(value);
}

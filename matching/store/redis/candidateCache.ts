/**
 * Decoded advisor documents for the candidate lookup (findCandidates), reused while an advisor's
 * stored text is unchanged. A lookup reads the heads of the candidate lists, and the same heads
 * come back lookup after lookup until those advisors are assigned or heartbeat; decoding their
 * documents (JSON.parse and the zod check) was about 0.5 ms of a national lookup's 1.4 ms at 100k
 * advisors. A hit compares the whole stored text, so a changed document is always decoded afresh.
 *
 * The cached states are deeply frozen: every lookup shares them, so a caller that tried to change
 * one would throw (ES modules run in strict mode) rather than corrupt the others' view.
 */
import type { AdvisorState } from "../port.ts";
import { decodeAdvisor, type Doc } from "./decode.ts";

/**
 * Entries kept, least recently used dropped first: about 2.5 KB each (the text and the decoded
 * state), so about 25 MB at most per process.
 */
export const CANDIDATE_CACHE_ENTRIES = 10_000;

export interface CandidateCache {
  /** The decoded document of `advisorId` as `raw` holds it (null for a missing one). */
  decode(advisorId: string, raw: string | null): Doc<AdvisorState> | null;
  /**
   * The stored text a state this cache handed out was decoded from (undefined for any other
   * object), for as long as the state is referenced: makeOffers sends it so that the script can
   * tell whether the advisor is still exactly as judged (OfferRoundInput's judged).
   */
  textOf(state: AdvisorState): string | undefined;
  readonly size: number;
}

export function createCandidateCache(capacity = CANDIDATE_CACHE_ENTRIES): CandidateCache {
  const entries = new Map<string, { raw: string; doc: Doc<AdvisorState> }>();
  // Beside the entries, not in them: a state outlives its entry while a caller still holds it.
  const texts = new WeakMap<AdvisorState, string>();
  return {
    decode(advisorId, raw) {
      const hit = entries.get(advisorId);
      if (hit) entries.delete(advisorId);
      if (raw === null) return null;
      if (hit?.raw === raw) {
        entries.set(advisorId, hit);
        return hit.doc;
      }
      const doc = decodeAdvisor(raw);
      if (!doc) return null;
      deepFreeze(doc.value);
      texts.set(doc.value, raw);
      entries.set(advisorId, { raw, doc });
      if (entries.size > capacity) entries.delete(entries.keys().next().value as string);
      return doc;
    },
    textOf(state) {
      return texts.get(state);
    },
    get size() {
      return entries.size;
    },
  };
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  for (const item of Object.values(value)) deepFreeze(item);
  Object.freeze(value);
}

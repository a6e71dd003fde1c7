/**
 * The presence history port: where the matching side reports each presence transition the live
 * store decided, so reporting can tell how long advisors were available (utilisation, reporting/kpis.ts).
 * History for reporting, not a decision: the live store stays the only truth for matching, and a
 * report that fails to land is logged, never retried into the store's decision.
 *
 * A transition is a write the store applied that changed presence (setPresence answering a different
 * `previous`, or expirePresence answering duplicate false); a heartbeat re-reporting the same
 * presence is not one and records nothing. The implementation on the record is
 * reporting/presenceHistory.ts; matching never sees Prisma.
 *
 * What can be lost: the row is written after the store's step, not with it (the store is Redis or
 * memory). If the process dies in between, or the write fails, that transition is missing, and no
 * later heartbeat repairs it (a heartbeat is not a transition): the history keeps the advisor's
 * previous presence until their next recorded transition. A lost change to available undercounts
 * available time; a lost change to away or offline overcounts it, possibly overnight. Likewise an
 * advisor whose live state was lost (restored offline by a rebuild) and who is never heard from
 * again stays available in the history until their next transition.
 */
import type { Presence } from "./domain/types.ts";

export interface PresenceChange {
  advisorId: string;
  /** The advisor's branch when it changed (AdvisorProfile.branchId). */
  branchId: string;
  presence: Presence;
  /** When the change took effect (epoch ms). */
  at: number;
}

export interface PresenceHistory {
  record(change: PresenceChange): Promise<void>;
}

/** For engines and jobs that keep no history (unit tests, tools). */
export const NO_PRESENCE_HISTORY: PresenceHistory = { record: async () => {} };

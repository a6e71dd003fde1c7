/**
 * Advisors as a manager (or the advisor) sees them: the directory row with licences, joined with the
 * live matching store's view of them right now (presence, work in progress, rating,
 * responsiveness). The directory is the system of record for who exists; the store only adds
 * what is live, and an advisor it does not know (yet) reads as offline with nothing in progress.
 */
import { afterKeys, keyOrder, pageOf, rowKeys, type Page, type PageQuery } from "../core/cursor.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { responsivenessScore } from "../matching/domain/ranking.ts";
import type { Presence } from "../matching/domain/types.ts";
import type { AdvisorState, MatchingStore } from "../matching/store/port.ts";
import { ADVISOR_SELECT, type AdvisorRecord } from "./advisors.ts";

export interface AdvisorLive {
  presence: Presence;
  /** Assignments in progress. */
  active: number;
  /** How many assignments the advisor may hold at once (maxConcurrent). */
  capacity: number;
  /** Mean stars of the advisor's ratings; null when nobody rated them yet. */
  rating: number | null;
  /** 0..1 as ranking scores it (matching/domain/ranking.ts); null before the first answered offer. */
  responsiveness: number | null;
}

export interface ListedAdvisor extends AdvisorRecord {
  live: AdvisorLive;
}

type LiveStore = Pick<MatchingStore, "getAdvisors">;

/** Rows read per round when a presence filter makes the page's size unknown in advance. */
const FILTER_SCAN_BATCH = 200;

/** Mean stars per advisor from the record, for advisors the live store does not hold. */
async function recordedMeanRatings(prisma: PrismaClient, advisorIds: string[]): Promise<Map<string, number>> {
  if (advisorIds.length === 0) return new Map();
  const rows = await prisma.rating.groupBy({ by: ["advisorId"], where: { advisorId: { in: advisorIds } }, _avg: { stars: true } });
  return new Map(rows.flatMap((r) => (r._avg.stars === null ? [] : [[r.advisorId, r._avg.stars] as const])));
}

function liveOf(advisor: AdvisorRecord, state: AdvisorState | null, recordedRating: number | null): AdvisorLive {
  if (!state) return { presence: "offline", active: 0, capacity: advisor.maxConcurrent, rating: recordedRating, responsiveness: null };
  const { stats } = state;
  const answered = stats.latencyEwmaMs !== null || stats.acceptEwma !== null;
  return {
    presence: state.supply.presence,
    active: state.supply.active,
    capacity: advisor.maxConcurrent,
    // The store's sum and count are rebuilt from the Rating table, so they are the record's mean.
    rating: stats.ratingCount > 0 ? stats.ratingSum / stats.ratingCount : null,
    responsiveness: answered ? responsivenessScore(stats) : null,
  };
}

/** The advisors with their live state, in the same order. */
async function withLive(prisma: PrismaClient, store: LiveStore, advisors: AdvisorRecord[]): Promise<ListedAdvisor[]> {
  if (advisors.length === 0) return [];
  const states = await store.getAdvisors(advisors.map((a) => a.id));
  const unknown = advisors.filter((_, i) => !states[i]).map((a) => a.id);
  const recorded = await recordedMeanRatings(prisma, unknown);
  return advisors.map((a, i) => ({ ...a, live: liveOf(a, states[i] ?? null, recorded.get(a.id) ?? null) }));
}

/** One advisor with their live state; null when the directory does not know them. */
export async function findListedAdvisor(prisma: PrismaClient, store: LiveStore, advisorId: string): Promise<ListedAdvisor | null> {
  const advisor = await prisma.advisor.findUnique({ where: { id: advisorId }, select: ADVISOR_SELECT });
  if (!advisor) return null;
  const [listed] = await withLive(prisma, store, [advisor]);
  return listed ?? null;
}

/**
 * A page of the branch's advisors, oldest first, optionally only those with this live presence.
 * Presence lives in the store, not in SQL, so a filtered page reads the directory in batches until
 * it has limit + 1 matches or runs out; the cursor still names the last row shown, so the next
 * page starts right after it whatever was skipped.
 */
export async function listBranchAdvisorsLive(
  prisma: PrismaClient,
  store: LiveStore,
  branchId: string,
  filter: { presence?: Presence },
  page: PageQuery,
): Promise<Page<ListedAdvisor>> {
  const wanted = page.limit + 1;
  const batch = filter.presence ? Math.max(wanted, FILTER_SCAN_BATCH) : wanted;
  const found: ListedAdvisor[] = [];
  let after = page.after;
  for (;;) {
    const rows = await prisma.advisor.findMany({
      where: { branchId, ...afterKeys(after, "asc") },
      select: ADVISOR_SELECT,
      orderBy: keyOrder("asc"),
      take: batch,
    });
    for (const advisor of await withLive(prisma, store, rows)) {
      if (filter.presence && advisor.live.presence !== filter.presence) continue;
      found.push(advisor);
      if (found.length === wanted) return pageOf(found, page.limit, rowKeys);
    }
    if (rows.length < batch) return pageOf(found, page.limit, rowKeys);
    after = rowKeys(rows[rows.length - 1]!);
  }
}

/**
 * The live branch feed for managers: every request's creation and end of life in their branch as a
 * `branch.activity`, and the branch at a glance as a `branch.snapshot` (waiting requests, advisors
 * by presence) when their socket connects and after activity. Both go to the branch's feed address
 * through the fan-out, so a manager connected to any process gets them.
 *
 * After activity the snapshot is throttled to one a second per branch across all processes: a store
 * lease per branch, taken just before publishing and left to lapse after the interval, is the atomic
 * "one was just sent" check (the same device as demand alerts). A snapshot that finds the lease held
 * is read again and retried an interval later, so the last activity of a burst is always followed by
 * a snapshot that includes it.
 */
import { randomUUID } from "node:crypto";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import { branchSnapshot } from "../../directory/queue.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { DomainEvent, EventBus } from "../../matching/events.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import type { Principal } from "../../api/auth/principal.ts";
import { branchAddress, type Fanout } from "../../api/realtime/fanout.ts";

/** At most one snapshot per branch per this interval after activity (on-connect snapshots aside). */
export const SNAPSHOT_INTERVAL_MS = 1_000;

const ACTIVITY = ["request.created", "request.assigned", "request.completed", "request.cancelled", "request.expired"] as const;
type ActivityEvent = (typeof ACTIVITY)[number];
const isActivity = (type: DomainEvent["type"]): type is ActivityEvent => (ACTIVITY as readonly string[]).includes(type);

/** `{ type: "branch.activity", branchId, event, requestId, at }`: at is the event's time, ISO 8601. */
export function activityMessage(event: DomainEvent & { type: ActivityEvent }) {
  return { type: "branch.activity" as const, branchId: event.branchId, event: event.type, requestId: event.requestId, at: new Date(event.at).toISOString() };
}

export interface BranchFeedDeps {
  bus: EventBus;
  fanout: Fanout;
  prisma: PrismaClient;
  store: Pick<MatchingStore, "getAdvisors" | "acquireLease">;
  clock: Clock;
  logger: Logger;
}

export interface BranchFeed {
  /** The hub's onConnect part: a manager's socket gets their branch's snapshot at once. */
  onConnect(principal: Principal): Promise<unknown[]>;
  /** Stops listening and cancels the snapshots not yet sent; resolves once one being sent is out. */
  stop(): Promise<void>;
}

export function wireBranchFeed(deps: BranchFeedDeps): BranchFeed {
  const { fanout, logger } = deps;
  /** `{ type: "branch.snapshot", branchId, queueDepth, advisors: { available, busy, away, offline }, at }`. */
  const snapshotMessage = async (branchId: string) => {
    const at = new Date(deps.clock.now()).toISOString();
    return { type: "branch.snapshot" as const, branchId, ...(await branchSnapshot(deps.prisma, deps.store, branchId)), at };
  };
  const publish = (branchId: string, message: Record<string, unknown> & { type: string }) =>
    fanout.publish({ to: [branchAddress(branchId)], message }).catch((error) => logger.error({ err: error, type: message.type }, "branch feed publish failed"));

  // Branches with a snapshot due, and the timer that sends it.
  const due = new Map<string, NodeJS.Timeout>();
  const sending = new Set<Promise<void>>();
  let stopped = false;
  const leaseToken = `${randomUUID()}:`;
  let attempts = 0;

  const schedule = (branchId: string, delayMs: number) => {
    if (stopped || due.has(branchId)) return;
    const timer = setTimeout(() => {
      due.delete(branchId);
      const send = sendSnapshot(branchId).finally(() => sending.delete(send));
      sending.add(send);
    }, delayMs);
    timer.unref();
    due.set(branchId, timer);
  };
  const sendSnapshot = async (branchId: string) => {
    try {
      // The lease first, then the read: of the processes that saw activity only the holder reads the
      // database, once per interval per branch (reading first had every process read every
      // interval and all but one throw the result away). Publications stay an interval apart give
      // or take the difference between two reads. A fresh token each time: the lease must lapse,
      // never be renewed by its own holder.
      if (!(await deps.store.acquireLease(`branch-snapshot:${branchId}`, `${leaseToken}${attempts++}`, SNAPSHOT_INTERVAL_MS))) {
        schedule(branchId, SNAPSHOT_INTERVAL_MS);
        return;
      }
      await publish(branchId, await snapshotMessage(branchId));
    } catch (error) {
      logger.error({ err: error, branchId }, "branch snapshot failed");
    }
  };

  // Detached: the feed must never hold up the decision it reports.
  const unsubscribe = deps.bus.subscribe(
    async (event) => {
      if (!isActivity(event.type)) return;
      await publish(event.branchId, activityMessage(event as DomainEvent & { type: ActivityEvent }));
      schedule(event.branchId, 0);
    },
    { detached: true },
  );

  return {
    async onConnect(principal) {
      if (principal.role !== "manager" || !principal.branchId) return [];
      return [await snapshotMessage(principal.branchId)];
    },
    async stop() {
      stopped = true;
      unsubscribe();
      for (const timer of due.values()) clearTimeout(timer);
      due.clear();
      await Promise.all(sending);
    },
  };
}

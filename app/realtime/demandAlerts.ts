/**
 * Surge alerts: when the waiting requests for a licence kind in a branch exceed the branch policy's
 * surgeThreshold, advisors with that licence who could help (available but idle, or away) get a
 * `demand.alert`, at most one per advisor per 15 minutes across all processes (a store lease per
 * advisor is the atomic "already alerted" check).
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import type { EventBus, EventOf } from "../../matching/events.ts";
import type { MatchingEngine } from "../../matching/engine/engine.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import type { Fanout } from "../../api/realtime/fanout.ts";
import { licensedAdvisorIds } from "../../directory/advisors.ts";
import { couldAnswerSurge } from "../../matching/domain/surge.ts";

const ALERT_INTERVAL_MS = 15 * 60_000;

export interface DemandAlertDeps {
  bus: EventBus;
  prisma: PrismaClient;
  engine: Pick<MatchingEngine, "demandFor">;
  store: MatchingStore;
  fanout: Fanout;
  clock: Clock;
  logger: Logger;
}

/** Returns the unsubscribe function, which resolves once a check in progress has finished. */
export function wireDemandAlerts(deps: DemandAlertDeps): () => Promise<void> {
  /** Whether this branch's waiting requests for this licence are a surge, and if so who to alert. */
  const evaluate = async ({ branchId, requiredLicence, eventId }: DemandCheck) => {
    const { queueDepth: waiting, surge } = await deps.engine.demandFor(branchId, requiredLicence);
    if (!surge) return;
    const now = new Date(deps.clock.now());
    const licensed = await licensedAdvisorIds(deps.prisma, { branchId, licence: requiredLicence, at: now });
    const states = await deps.store.getAdvisors(licensed);
    const idleOrAway = states.filter((s) => s && couldAnswerSurge(s.supply));
    for (const state of idleOrAway) {
      const advisorId = state!.profile.id;
      // The lease is never released: it simply lapses after the interval, which is the rate limit.
      if (!(await deps.store.acquireLease(`demand-alert:${advisorId}`, eventId, ALERT_INTERVAL_MS))) continue;
      await deps.fanout.publish({ to: [advisorId], message: { type: "demand.alert", branchId, requiredLicence, waiting, surge: true } });
      deps.logger.debug({ advisorId, waiting, licence: requiredLicence }, "demand alert sent");
    }
  };

  // Checks coalesce per branch and licence: a new request marks its pair due, and one check at a
  // time runs for each due pair, reading the queue as it is then. Checking once per request instead
  // (two database reads, an advisor read and a lease per idle advisor, one request after another)
  // fell behind at a few dozen requests a second, and its backlog grew without bound.
  const due = new Map<string, DemandCheck>();
  let checking: Promise<void> | null = null;
  const checkDue = async () => {
    for (let next = due.entries().next(); !next.done; next = due.entries().next()) {
      const [key, check] = next.value;
      due.delete(key);
      try {
        await evaluate(check);
      } catch (error) {
        deps.logger.error({ err: error, branchId: check.branchId, requiredLicence: check.requiredLicence }, "demand check failed");
      }
    }
  };
  const kick = () => {
    if (checking) return;
    checking = checkDue().finally(() => {
      checking = null;
      // Marked after the loop saw the map empty, before this ran.
      if (due.size) kick();
    });
  };
  const unsubscribe = deps.bus.subscribe(
    (event) => {
      if (event.type !== "request.created") return;
      due.set(`${event.branchId} ${event.requiredLicence}`, { branchId: event.branchId, requiredLicence: event.requiredLicence, eventId: event.id });
      // Not awaited: the bus moves on to the next event, which only marks its pair due meanwhile.
      kick();
    },
    { detached: true },
  );
  return async () => {
    unsubscribe();
    due.clear();
    await checking;
  };
}

interface DemandCheck {
  branchId: string;
  requiredLicence: EventOf<"request.created">["requiredLicence"];
  /** The newest request.created that marked the pair: the token of the alert leases it takes. */
  eventId: string;
}

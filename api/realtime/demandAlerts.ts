/**
 * Surge alerts: when the waiting requests for a licence kind in a branch exceed the branch policy's
 * surgeThreshold, advisors with that licence who could help (available but idle, or away) get a
 * `demand.alert`, at most one per advisor per 15 minutes across all processes (a store lease per
 * advisor is the atomic "already alerted" check).
 */
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { Clock } from "../../core/clock.ts";
import type { Logger } from "../../core/logger.ts";
import type { EventBus } from "../../matching/events.ts";
import type { MatchingEngine } from "../../matching/engine/engine.ts";
import type { MatchingStore } from "../../matching/store/port.ts";
import type { Fanout } from "./fanout.ts";

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

export function wireDemandAlerts(deps: DemandAlertDeps): () => void {
  return deps.bus.subscribe(async (event) => {
    if (event.type !== "request.created") return;
    const { queueDepth: waiting, surge } = await deps.engine.demandFor(event.branchId, event.requiredLicence);
    if (!surge) return;
    const now = new Date(deps.clock.now());
    const licensed = await deps.prisma.advisor.findMany({
      where: { branchId: event.branchId, status: "active", licences: { some: { kind: event.requiredLicence, status: "active", validFrom: { lte: now }, validUntil: { gt: now } } } },
      select: { id: true },
    });
    const states = await deps.store.getAdvisors(licensed.map((a) => a.id));
    const idleOrAway = states.filter((s) => s && ((s.supply.presence === "available" && s.supply.active === 0) || s.supply.presence === "away"));
    for (const state of idleOrAway) {
      const advisorId = state!.profile.id;
      // The lease is never released: it simply lapses after the interval, which is the rate limit.
      if (!(await deps.store.acquireLease(`demand-alert:${advisorId}`, event.id, ALERT_INTERVAL_MS))) continue;
      await deps.fanout.publish({ to: [advisorId], message: { type: "demand.alert", branchId: event.branchId, requiredLicence: event.requiredLicence, waiting, surge: true } });
      deps.logger.debug({ advisorId, waiting, licence: event.requiredLicence }, "demand alert sent");
    }
  }, { detached: true });
}

/**
 * The production records adapter with two reads answered from memory, because on a 10,000-request
 * day they were a third of the run's time and neither changes a decision:
 *
 * - clientContext: the client's branch, region, risk level, language and dedicated advisor, from
 *   the population the record was written from (records.ts), the same values the adapter would read;
 * - waitingCount: the branch's waiting requests of a licence kind, counted from the engine's events
 *   (created, then assigned or ended). It only feeds the surge flag in an accept's event context;
 *   production reads it from a record that trails the live store by the journal's lag, this count
 *   does not trail.
 *
 * Every write (the request rows, the journal's decisions) and every other read go to the adapter.
 */
import type { DomainEvent } from "../matching/events.ts";
import type { ClientContext, MatchingRecords } from "../matching/records/port.ts";
import type { Population } from "./population.ts";

export interface FastRecords {
  records: MatchingRecords;
  /** Feed every engine event (the waiting counts follow them). */
  observe(event: DomainEvent): void;
}

export function fastRecords(inner: MatchingRecords, population: Population): FastRecords {
  const regionOf = new Map(population.branches.map((b) => [b.id, b.region]));
  const clients = new Map<string, ClientContext>(
    population.arrivals.map((a) => [
      a.clientId,
      {
        clientId: a.clientId,
        branchId: a.branchId,
        region: regionOf.get(a.branchId)!,
        riskLevel: a.riskLevel,
        language: a.language,
        dedicatedAdvisorId: a.dedicatedAdvisorId,
      },
    ]),
  );
  const waiting = new Map<string, number>();
  const waitingKeyOf = new Map<string, string>();
  return {
    records: {
      ...inner,
      clientContext: async (clientId) => clients.get(clientId) ?? inner.clientContext(clientId),
      waitingCount: async (branchId, licence) => waiting.get(`${branchId}|${licence}`) ?? 0,
    },
    observe(event) {
      if (event.type === "request.created") {
        const key = `${event.branchId}|${event.requiredLicence}`;
        waitingKeyOf.set(event.requestId, key);
        waiting.set(key, (waiting.get(key) ?? 0) + 1);
      } else if (event.type === "request.assigned" || event.type === "request.cancelled" || event.type === "request.expired") {
        const key = waitingKeyOf.get(event.requestId);
        if (key === undefined) return;
        waitingKeyOf.delete(event.requestId);
        waiting.set(key, waiting.get(key)! - 1);
      }
    },
  };
}

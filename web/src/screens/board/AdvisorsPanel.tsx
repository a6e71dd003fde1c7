/**
 * Advisors online with their presence and load. Reads GET /v1/branches/{id}/advisors; on a server
 * without that route, shows the queue's available advisors instead (presence "available" only).
 */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { isMissingRoute, useAdvisors, useQueue } from "./queries.ts";

interface Row {
  id: string;
  name: string;
  presence: string;
  active: number;
  capacity: number;
}

export function AdvisorsPanel({ branchId }: { branchId: string }) {
  const advisors = useAdvisors(branchId);
  const queue = useQueue(branchId);
  const fallback = isMissingRoute(advisors.error);
  const rows: Row[] = fallback
    ? (queue.data?.availableAdvisors ?? []).map((a) => ({ id: a.advisorId, name: a.name, presence: "available", active: a.active, capacity: a.maxConcurrent }))
    : (advisors.data?.items ?? [])
        .filter((a) => a.live.presence !== "offline")
        .map((a) => ({ id: a.id, name: a.name, presence: a.live.presence, active: a.live.active, capacity: a.live.capacity }));
  return (
    <section aria-labelledby="advisors-title" className="panel">
      <h2 id="advisors-title">Advisors online ({rows.length})</h2>
      {fallback && <p className="muted">This server lists available advisors only.</p>}
      {advisors.error && !fallback && <ErrorNotice error={advisors.error} title="Advisors could not be loaded" />}
      {rows.length === 0 ? (
        <p>No advisor is online.</p>
      ) : (
        <table data-testid="advisors-table">
          <thead>
            <tr>
              <th scope="col">Advisor</th>
              <th scope="col">Status</th>
              <th scope="col">Load</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  {r.name} <span className="muted">{r.id}</span>
                </td>
                <td>{r.presence}</td>
                <td>
                  {r.active} of {r.capacity}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

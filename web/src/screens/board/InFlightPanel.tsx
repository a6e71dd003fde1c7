/** Requests an advisor is serving right now (status assigned). */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { isMissingRoute, useInFlight } from "./queries.ts";

export function InFlightPanel({ branchId }: { branchId: string }) {
  const inFlight = useInFlight(branchId);
  const items = inFlight.data?.items ?? [];
  return (
    <section aria-labelledby="inflight-title" className="panel panel-wide">
      <h2 id="inflight-title">In progress {inFlight.data ? `(${items.length}${inFlight.data.nextCursor ? "+" : ""})` : ""}</h2>
      {isMissingRoute(inFlight.error) ? (
        <p className="muted">This server does not list a branch's requests yet.</p>
      ) : (
        inFlight.error && <ErrorNotice error={inFlight.error} title="Requests in progress could not be loaded" />
      )}
      {inFlight.data && items.length === 0 && <p>Nothing in progress.</p>}
      {items.length > 0 && (
        <table data-testid="inflight-table">
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Advisor</th>
              <th scope="col">Topic</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>{r.assignedAdvisorId ?? "–"}</td>
                <td>{r.topic}</td>
                <td>{r.assignedAt ? new Date(r.assignedAt).toLocaleTimeString() : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Requests waiting in the branch (pending or offered), highest priority and oldest first. */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { useQueue } from "./queries.ts";

export function QueuePanel({ branchId }: { branchId: string }) {
  const queue = useQueue(branchId);
  const waiting = queue.data?.waiting ?? [];
  return (
    <section aria-labelledby="queue-title" className="panel panel-wide">
      <h2 id="queue-title">Waiting requests {queue.data ? `(${waiting.length})` : ""}</h2>
      {queue.error && <ErrorNotice error={queue.error} title="The queue could not be loaded" />}
      {queue.isPending && <p>Loading…</p>}
      {queue.data && waiting.length === 0 && <p>No one is waiting.</p>}
      {waiting.length > 0 && (
        <table data-testid="queue-table">
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Client</th>
              <th scope="col">Licence</th>
              <th scope="col">Priority</th>
              <th scope="col">Stage</th>
              <th scope="col">Waiting</th>
            </tr>
          </thead>
          <tbody>
            {waiting.map((w) => (
              <tr key={w.requestId}>
                <td>{w.requestId}</td>
                <td>{w.clientId}</td>
                <td>{w.requiredLicence}</td>
                <td>{w.priority}</td>
                <td>{w.stage}</td>
                <td>{w.waitingSeconds} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

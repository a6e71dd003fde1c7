/** The advisor's open conversations (requests assigned to them), each a link to its chat. */
import { useQuery } from "@tanstack/react-query";
import { ErrorNotice } from "../../../components/ErrorNotice.tsx";
import { hrefOf } from "../../../router.ts";
import { advisorKeys, readAssigned, readMe } from "../queries.ts";
import { licenceName } from "../types.ts";

export function Assignments() {
  const assigned = useQuery({ queryKey: advisorKeys.assigned, queryFn: readAssigned });
  const me = useQuery({ queryKey: advisorKeys.me, queryFn: readMe });
  const items = assigned.data?.items ?? [];
  return (
    <section aria-labelledby="assigned-title" className="panel">
      <h2 id="assigned-title">Your clients now ({items.length})</h2>
      {me.data && (
        <p className="muted">
          {me.data.live.active} of {me.data.live.capacity} places taken.
        </p>
      )}
      {assigned.error && <ErrorNotice error={assigned.error} title="Your conversations could not be read" />}
      {assigned.isPending && <p>{assigned.fetchStatus === "paused" ? "Waiting for the network…" : "Loading…"}</p>}
      {assigned.isSuccess && items.length === 0 && <p className="muted">No open conversations.</p>}
      <ul className="assigned-list">
        {items.map((r) => (
          <li key={r.id}>
            <a href={hrefOf(`/requests/${r.id}`)}>{r.topic}</a>{" "}
            <span className="muted">
              {licenceName(r.requiredLicence)} · {r.channel}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

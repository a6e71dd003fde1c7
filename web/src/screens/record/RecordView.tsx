/** One request's decision record (GET /v1/requests/{id}/record): the request, its timeline, its messages. */
import { useQuery } from "@tanstack/react-query";
import { get } from "../../api/client.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { Messages } from "./Messages.tsx";
import { Timeline } from "./Timeline.tsx";
import type { DecisionRecord } from "./types.ts";

function Summary({ record }: { record: DecisionRecord }) {
  const r = record.request;
  const rows: Array<[string, string]> = [
    ["Status", r.status],
    ["Stage", r.stage ?? "queue"],
    ["Branch and region", `${r.branchId}, ${r.region}`],
    ["Client", r.clientId],
    ["Assigned advisor", record.assignment ? `${record.assignment.advisor.name} (${record.assignment.advisor.id})` : "none"],
    ["Offers made", String(record.offers.length)],
    ["Callback promised", r.callbackRequested ? "yes" : "no"],
  ];
  return (
    <dl className="record-summary" data-testid="record-summary">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function RecordView({ requestId }: { requestId: string }) {
  const record = useQuery({ queryKey: ["record", requestId], queryFn: () => get<DecisionRecord>(`/v1/requests/${encodeURIComponent(requestId)}/record`) });
  return (
    <section aria-labelledby="record-title" className="panel" aria-busy={record.isPending}>
      <h2 id="record-title">Record of {requestId}</h2>
      {record.isPending && <p>Loading…</p>}
      {record.error && <ErrorNotice error={record.error} title="The record could not be loaded" />}
      {record.data && (
        <>
          <Summary record={record.data} />
          <Timeline record={record.data} />
          <Messages requestId={requestId} messages={record.data.messages} />
        </>
      )}
    </section>
  );
}

/**
 * Choosing a request: type its id, or pick one of the branch's 20 most recent requests
 * (GET /v1/branches/{id}/requests?limit=20), filtered by status.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import type { Page } from "../../api/types.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { branchKey } from "../../live/useBranchFeed.ts";
import { REQUEST_STATUSES } from "./types.ts";
import { when } from "./when.ts";

interface RecentRequest {
  id: string;
  status: string;
  stage: string | null;
  topic: string;
  createdAt: string;
}

export function RequestIdForm({ current, onPick }: { current: string; onPick(id: string): void }) {
  const [value, setValue] = useState(current);
  return (
    <form
      className="record-id-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onPick(value.trim());
      }}
    >
      <div className="field">
        <label htmlFor="record-request-id">Request id</label>
        <input id="record-request-id" value={value} onChange={(e) => setValue(e.target.value)} placeholder="req_…" spellCheck={false} autoComplete="off" />
      </div>
      <button type="submit" className="primary">
        Show record
      </button>
    </form>
  );
}

export function RecentRequests({ branchId, current, onPick }: { branchId: string; current: string; onPick(id: string): void }) {
  const [status, setStatus] = useState("");
  const recent = useQuery({
    queryKey: [...branchKey(branchId), "requests", "recent", status],
    queryFn: () => get<Page<RecentRequest>>(`/v1/branches/${encodeURIComponent(branchId)}/requests?limit=20${status ? `&status=${status}` : ""}`),
  });
  const items = recent.data?.items ?? [];
  return (
    <section aria-labelledby="recent-title" className="panel">
      <h2 id="recent-title">Recent requests</h2>
      <div className="field">
        <label htmlFor="recent-status">Status</label>
        <select id="recent-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">Any</option>
          {REQUEST_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {recent.error && <ErrorNotice error={recent.error} title="Recent requests could not be loaded" />}
      {recent.data && items.length === 0 && <p>No request{status ? ` is ${status}` : " yet"}.</p>}
      {items.length > 0 && (
        <table data-testid="recent-requests">
          <thead>
            <tr>
              <th scope="col">Request</th>
              <th scope="col">Status</th>
              <th scope="col">Topic</th>
              <th scope="col">Created</th>
              <th scope="col">Record</th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id} aria-current={r.id === current ? "true" : undefined}>
                <th scope="row">
                  {r.id}
                  {r.id === current && <span className="muted"> (shown)</span>}
                </th>
                <td>{r.status}</td>
                <td>{r.topic}</td>
                <td>{when(r.createdAt)}</td>
                <td>
                  <button type="button" onClick={() => onPick(r.id)}>
                    Show<span className="visually-hidden"> the record of {r.id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * Staffing: per local hour of a day, the advisors Erlang C says the branch needed for a service
 * target against those available (GET /v1/branches/{id}/staffing), as a chart with its table, and
 * the hours under target with a suggested surge rule for each.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../api/client.ts";
import type { Branch, Page } from "../api/types.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { dateInputValue, todayIn } from "./kpis/range.ts";
import { selectionProblem, StaffingControls, type StaffingSelection } from "./staffing/StaffingControls.tsx";
import { StaffingChart } from "./staffing/StaffingChart.tsx";
import { SurgeList } from "./staffing/SurgeList.tsx";
import type { BranchStaffing } from "./staffing/types.ts";
import type { ScreenProps } from "./types.ts";
import "./kpis/kpis.css";
import "./staffing/staffing.css";

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The branch's timezone, whose today the date defaults to; the browser's until the branch list answers. */
function useBranchTimezone(branchId: string): string {
  const branches = useQuery({ queryKey: ["kpis", "branches"], queryFn: () => get<Page<Branch>>("/v1/branches?limit=200"), retry: false, staleTime: 300_000 });
  return branches.data?.items.find((b) => b.id === branchId)?.timezone ?? (branches.isPending ? "" : browserZone());
}

function Advice({ branchId, timezone }: { branchId: string; timezone: string }) {
  const today = dateInputValue(todayIn(timezone));
  const [selection, setSelection] = useState<StaffingSelection>({ date: today, percent: "80", seconds: "20" });
  const problem = selectionProblem(selection);
  const params = problem
    ? null
    : new URLSearchParams({ date: selection.date, targetPercent: selection.percent.trim(), targetSeconds: selection.seconds.trim() });
  const staffing = useQuery({
    queryKey: ["staffing", branchId, params?.toString()],
    queryFn: () => get<BranchStaffing>(`/v1/branches/${encodeURIComponent(branchId)}/staffing?${params}`),
    enabled: params !== null,
    placeholderData: (previous) => previous,
  });
  const data = staffing.data;
  return (
    <>
      <StaffingControls selection={selection} onChange={setSelection} today={today} />
      {problem && (
        <p role="alert" className="field-error">
          {problem}
        </p>
      )}
      {staffing.error && <ErrorNotice error={staffing.error} title="The staffing advice could not be loaded" />}
      {data && (
        <div data-testid="staffing-results" data-date={data.date} aria-busy={staffing.isFetching}>
          <p data-testid="staffing-summary">
            {data.date} ({data.timezone}): {data.underTargetHours} of {data.hours.length} hours under the target of {data.target.percent}% answered within{" "}
            {data.target.seconds} s.
            {staffing.isFetching && <span className="muted"> Loading…</span>}
          </p>
          <StaffingChart staffing={data} />
          <SurgeList staffing={data} />
          <details>
            <summary>How this is worked out</summary>
            <p>{data.model}</p>
            <p>{data.basis}</p>
          </details>
        </div>
      )}
    </>
  );
}

export function Staffing({ branchId }: ScreenProps) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Staffing{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId ? <ZonedAdvice branchId={branchId} /> : <p>Choose a branch to see its staffing.</p>}
    </section>
  );
}

function ZonedAdvice({ branchId }: { branchId: string }) {
  const timezone = useBranchTimezone(branchId);
  return timezone ? <Advice key={`${branchId}:${timezone}`} branchId={branchId} timezone={timezone} /> : <p>Loading…</p>;
}

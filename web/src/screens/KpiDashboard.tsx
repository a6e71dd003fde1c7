/**
 * KPI dashboard: the branch's figures over a range of local days (GET /v1/branches/{id}/kpis), as
 * tiles for the totals (formatted by kpis/format.ts) and charts per hour or day, each with a table.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../api/client.ts";
import type { Branch, Page } from "../api/types.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { KpiCharts } from "./kpis/KpiCharts.tsx";
import { KpiControls, type KpiSelection } from "./kpis/KpiControls.tsx";
import { KpiTiles } from "./kpis/KpiTiles.tsx";
import { dateInputValue, rangeOf, todayIn } from "./kpis/range.ts";
import type { BranchKpis } from "./kpis/types.ts";
import type { ScreenProps } from "./types.ts";
import "./kpis/kpis.css";

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The branch's timezone, which its days are counted in; the browser's until the branch list answers. */
function useBranchTimezone(branchId: string): string {
  const branches = useQuery({ queryKey: ["kpis", "branches"], queryFn: () => get<Page<Branch>>("/v1/branches?limit=200"), retry: false, staleTime: 300_000 });
  return branches.data?.items.find((b) => b.id === branchId)?.timezone ?? (branches.isPending ? "" : browserZone());
}

const shownInstant = (d: Date, timezone: string) => new Intl.DateTimeFormat("en-GB", { timeZone: timezone, dateStyle: "medium", timeStyle: "short" }).format(d);

function Dashboard({ branchId, timezone }: { branchId: string; timezone: string }) {
  const today = dateInputValue(todayIn(timezone));
  const [selection, setSelection] = useState<KpiSelection>({ choice: "today", custom: { from: today, to: today }, bucket: "hour" });
  const range = rangeOf(selection.choice, timezone, selection.custom);
  const params = "problem" in range ? null : new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString(), bucket: selection.bucket });
  const kpis = useQuery({
    queryKey: ["kpis", branchId, params?.toString()],
    queryFn: () => get<BranchKpis>(`/v1/branches/${encodeURIComponent(branchId)}/kpis?${params}`),
    enabled: params !== null,
    placeholderData: (previous) => previous,
  });
  return (
    <>
      <KpiControls selection={selection} onChange={setSelection} />
      {"problem" in range ? (
        <p role="alert" className="field-error">
          {range.problem}
        </p>
      ) : (
        <p data-testid="kpi-range">
          From {shownInstant(range.from, timezone)} to {shownInstant(range.to, timezone)} ({timezone}), by {selection.bucket}.
          {kpis.isFetching && <span className="muted"> Loading…</span>}
        </p>
      )}
      {kpis.error && <ErrorNotice error={kpis.error} title="The KPIs could not be loaded" />}
      {kpis.data && (
        // The range the figures are for, as the API answered it: a test asks the API the same.
        <div data-testid="kpi-results" data-from={kpis.data.from} data-to={kpis.data.to} data-bucket={kpis.data.bucket} aria-busy={kpis.isFetching}>
          <KpiTiles total={kpis.data.total} />
          <KpiCharts kpis={kpis.data} />
        </div>
      )}
    </>
  );
}

export function KpiDashboard({ branchId }: ScreenProps) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>KPI dashboard{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId ? <ZonedDashboard branchId={branchId} /> : <p>Choose a branch to see its KPIs.</p>}
    </section>
  );
}

function ZonedDashboard({ branchId }: { branchId: string }) {
  const timezone = useBranchTimezone(branchId);
  return timezone ? <Dashboard key={`${branchId}:${timezone}`} branchId={branchId} timezone={timezone} /> : <p>Loading…</p>;
}

/**
 * Simulating a version over a date range: the API replays the branch's recorded events through it,
 * writing nothing, and compares with the active version. Shown as totals, a table per advisor and
 * a bar chart of the same figures.
 */
import { useState } from "react";
import { ApiError } from "../../api/client.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { useLeaderboard } from "../settlements/queries.ts";
import type { FieldErrors } from "./draft.ts";
import { TextField } from "./fields.tsx";
import { PointsChart } from "./PointsChart.tsx";
import { type SimulationReport, useSimulate } from "./queries.ts";

const DAY = 86_400_000;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const dateText = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
/** Local midnight of a YYYY-MM-DD date, or null when it is not one. */
function midnight(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) return null;
  const d = new Date(`${text.trim()}T00:00:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The range as the API takes it: from the first day's start to the end of the last (inclusive) day. */
function rangeOf(from: string, to: string): { ok: true; from: string; to: string } | { ok: false; errors: FieldErrors } {
  const start = midnight(from);
  const end = midnight(to);
  const errors: FieldErrors = {};
  if (!start) errors["sim.from"] = "Enter a date";
  if (!end) errors["sim.to"] = "Enter a date";
  if (start && end && end < start) errors["sim.to"] = "The last day must not be before the first";
  if (!start || !end || errors["sim.to"]) return { ok: false, errors };
  return { ok: true, from: start.toISOString(), to: new Date(end.getTime() + DAY).toISOString() };
}

function Results({ report, version, names }: { report: SimulationReport; version: number; names: Map<string, string> }) {
  const { draft, active, difference } = report;
  const advisors = [...new Set([...Object.keys(draft.perAdvisor), ...Object.keys(active?.perAdvisor ?? {})])];
  const rows = advisors
    .map((id) => ({ id, label: names.get(id) ?? id, points: draft.perAdvisor[id] ?? 0 }))
    .sort((a, b) => b.points - a.points || a.id.localeCompare(b.id));
  const caption = `Points per advisor under version ${version}`;
  return (
    <div data-testid="simulation-results">
      <p role="status">
        Replayed {plural(report.events, "recorded event")}: {plural(draft.totals.posted, "award")} ({draft.totals.points} points), {draft.totals.skipped}{" "}
        skipped by caps or budget.
        {active &&
          difference &&
          ` Active version ${active.version} gave ${active.totals.points} points (${difference.pointsDelta >= 0 ? "+" : ""}${difference.pointsDelta}).`}
      </p>
      {rows.length === 0 ? (
        <p>No advisor earned or lost anything in this range.</p>
      ) : (
        <>
          <PointsChart rows={rows} title={caption} tableName={caption} />
          <table data-testid="simulation-table">
            <caption>{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Advisor</th>
                <th scope="col">Points</th>
                {active && <th scope="col">Active version {active.version}</th>}
                {difference && <th scope="col">Difference</th>}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    {r.label} <span className="muted">{r.id}</span>
                  </th>
                  <td>{r.points}</td>
                  {active && <td>{active.perAdvisor[r.id] ?? 0}</td>}
                  {difference && <td>{difference.perAdvisorDelta[r.id] ?? 0}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

export function SimulatePanel({ branchId, version }: { branchId: string; version: number }) {
  const [from, setFrom] = useState(() => dateText(new Date(Date.now() - 6 * DAY)));
  const [to, setTo] = useState(() => dateText(new Date()));
  const [errors, setErrors] = useState<FieldErrors>({});
  const simulate = useSimulate(branchId);
  const leaderboard = useLeaderboard(branchId);
  const names = new Map((leaderboard.data ?? []).map((e) => [e.advisorId, e.name]));
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const range = rangeOf(from, to);
    if (!range.ok) return setErrors(range.errors);
    setErrors({});
    simulate.mutate(
      { version, from: range.from, to: range.to },
      // The API names the field it refused ("from", "to"): show it there too.
      { onError: (error) => error instanceof ApiError && setErrors(Object.fromEntries(error.fieldErrors().map((d) => [`sim.${d.path}`, d.message]))) },
    );
  };
  return (
    <section aria-labelledby="simulate-title" className="panel" data-testid="simulate-panel">
      <h2 id="simulate-title">Simulate version {version}</h2>
      <form onSubmit={submit} noValidate className="field-row">
        <TextField type="date" label="First day" path="sim.from" errors={errors} value={from} onChange={setFrom} />
        <TextField type="date" label="Last day (included)" path="sim.to" errors={errors} value={to} onChange={setTo} />
        <div className="form-actions">
          <button type="submit" className="primary" disabled={simulate.isPending}>
            {simulate.isPending ? "Simulating…" : "Run simulation"}
          </button>
        </div>
      </form>
      {simulate.error && <ErrorNotice error={simulate.error} title="The simulation failed" />}
      {simulate.data && simulate.variables?.version === version && <Results report={simulate.data} version={version} names={names} />}
    </section>
  );
}

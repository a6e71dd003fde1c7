/**
 * The policy editor's what-if: replays the branch's recent requests under the edited policy and the
 * stored one (POST /v1/branches/{id}/dispatch-policy/simulate) and shows both KPI sets side by side
 * before anything is saved, with the server's notice when it cut the window short.
 */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { SIMULATION_ROWS, SIMULATION_WINDOWS, type PolicySimulation } from "./simulation.ts";

const simulatePath = (branchId: string) => `/v1/branches/${encodeURIComponent(branchId)}/dispatch-policy/simulate`;
const when = (iso: string) => new Date(iso).toLocaleString();

function Results({ result }: { result: PolicySimulation }) {
  const pooled = result.fitted.advisors.filter((a) => a.source.offers !== "own" || a.source.handle !== "own").length;
  return (
    <div data-testid="simulation-result">
      {result.cutShort && (
        <p role="status" className="notice" data-testid="simulation-cut">
          <strong>Window cut short:</strong> {result.cutReason}
        </p>
      )}
      <table className="simulation-table">
        <caption>
          {result.window.requests} requests of {when(result.window.from)} to {when(result.window.to)}, replayed under each policy
        </caption>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            <th scope="col">Stored policy (version {result.current.version})</th>
            <th scope="col">Edited policy</th>
          </tr>
        </thead>
        <tbody>
          {SIMULATION_ROWS.map((row) => (
            <tr key={row.id}>
              <th scope="row">{row.label}</th>
              <td data-testid={`sim-current-${row.id}`}>{row.value(result.current.kpis)}</td>
              <td data-testid={`sim-candidate-${row.id}`}>{row.value(result.candidate.kpis)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="notice-meta">
        Advisor behaviour fitted from {when(result.fitted.from)} to {when(result.fitted.to)}: {result.fitted.advisors.length} advisors
        {pooled ? `, ${pooled} with too little history on the branch's pooled figures` : ""}. Seed {result.seed}.
      </p>
      <details>
        <summary>What the replay leaves out</summary>
        <ul>
          {result.assumptions.map((a) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      </details>
    </div>
  );
}

/** `candidate` answers the edited policy, or null after showing the form's errors. */
export function SimulatePanel({ branchId, candidate }: { branchId: string; candidate(): object | null }) {
  const [windowId, setWindowId] = useState<(typeof SIMULATION_WINDOWS)[number]["id"]>("week");
  const simulate = useMutation({
    mutationFn: (policy: object) => {
      const chosen = SIMULATION_WINDOWS.find((w) => w.id === windowId)!;
      const to = Date.now();
      return api<PolicySimulation>("POST", simulatePath(branchId), {
        policy,
        from: new Date(to - chosen.ms).toISOString(),
        to: new Date(to).toISOString(),
      });
    },
  });
  const run = () => {
    const policy = candidate();
    if (policy) simulate.mutate(policy);
  };
  return (
    <fieldset className="simulation" aria-describedby="simulation-help">
      <legend>What if: replay before saving</legend>
      <p id="simulation-help">
        Replays the branch's real requests under the edited policy and under the stored one, with each advisor's accept rate, think time and handle time fitted
        from the record. Nothing is saved.
      </p>
      <div className="simulation-controls">
        <label>
          Window{" "}
          <select value={windowId} onChange={(e) => setWindowId(e.target.value as typeof windowId)}>
            {SIMULATION_WINDOWS.map((w) => (
              <option key={w.id} value={w.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={run} disabled={simulate.isPending} data-testid="simulate-policy">
          {simulate.isPending ? "Replaying…" : "Simulate on past requests"}
        </button>
      </div>
      <div aria-live="polite">
        {simulate.isPending && <p role="status">Replaying the window under both policies; this takes a few seconds.</p>}
        {simulate.error && <ErrorNotice error={simulate.error} title="The simulation did not run" />}
        {simulate.data && !simulate.isPending && <Results result={simulate.data} />}
      </div>
    </fieldset>
  );
}

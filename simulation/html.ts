/**
 * The simulation's HTML report: one self-contained file (inline SVG and CSS, nothing fetched) with
 * the policies side by side: answer rate and median time to accept by hour, the stage requests
 * were answered in, utilisation by region, and the table of figures.
 *
 * Hourly figures across branches add counts by bucket start (the branches' KPI buckets); the hour's
 * median time to accept is the branches' medians weighted by assigned requests, as in the summary.
 * A region's utilisation is the mean of its branches' (each branch's is assigned over available
 * advisor-seconds, from the KPIs).
 */
import type { Kpis } from "../reporting/kpis.ts";
import type { PolicyRun, SimulationResult } from "./compare.ts";
import { barChart, escapeHtml, lineChart, type Series } from "./svg.ts";
import { formatTable } from "./table.ts";

interface Hourly {
  labels: string[];
  answerRate: Series[];
  acceptP50: Series[];
}

function hourly(result: SimulationResult): Hourly {
  const starts = [...new Set(result.policies.flatMap((p) => p.branches.flatMap((b) => b.kpis.buckets.map((k) => k.start))))].sort();
  const labels = starts.map((s) => s.slice(11, 16));
  const per = (run: PolicyRun, value: (rows: Kpis[]) => number | null) =>
    starts.map((start) => value(run.branches.flatMap((b) => b.kpis.buckets.filter((k) => k.start === start))));
  return {
    labels,
    answerRate: result.policies.map((run) => ({
      name: run.name,
      values: per(run, (rows) => {
        const created = rows.reduce((s, k) => s + k.created, 0);
        return created ? rows.reduce((s, k) => s + k.assigned, 0) / created : null;
      }),
    })),
    acceptP50: result.policies.map((run) => ({
      name: run.name,
      values: per(run, (rows) => {
        const weight = rows.reduce((s, k) => s + (k.timeToAcceptMs.p50 === null ? 0 : k.assigned), 0);
        return weight ? rows.reduce((s, k) => s + (k.timeToAcceptMs.p50 ?? 0) * k.assigned, 0) / weight / 1000 : null;
      }),
    })),
  };
}

const STAGES = ["dedicated", "branch", "region", "national", "queue"] as const;

function regionUtilisation(result: SimulationResult): { regions: string[]; series: Series[] } {
  const regions = [...new Set(result.policies[0]?.branches.map((b) => b.region) ?? [])];
  const series = result.policies.map((run) => ({
    name: run.name,
    values: regions.map((region) => {
      const values = run.branches.filter((b) => b.region === region).flatMap((b) => (b.kpis.total.utilisation === null ? [] : [b.kpis.total.utilisation]));
      return values.length ? values.reduce((s, v) => s + v, 0) / values.length : null;
    }),
  }));
  return { regions: regions.map((r) => r.replace(/^sim_\d+_/, "")), series };
}

const CSS = `body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.25rem}
svg{width:100%;height:auto;background:#fff}.legend span{margin-right:1rem;font-size:.9rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
pre{overflow-x:auto;background:#f6f6f6;padding:1rem;font-size:.8rem}`;

export function htmlReport(result: SimulationResult): string {
  const h = hourly(result);
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  const utilisation = regionUtilisation(result);
  const stages: Series[] = STAGES.map((stage) => ({ name: stage, values: result.policies.map((p) => p.summary.answeredByStage[stage]) }));
  const charts = [
    lineChart("Answer rate by hour of creation", h.labels, h.answerRate, pct, 1),
    lineChart("Median time to accept by hour of creation (s)", h.labels, h.acceptP50, (v) => v.toFixed(0)),
    barChart(
      "Requests answered, by the stage they were answered in",
      result.policies.map((p) => p.name),
      stages,
      (v) => v.toFixed(0),
      true,
    ),
    barChart("Utilisation by region (mean of its branches)", utilisation.regions, utilisation.series, pct),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`Simulation: ${result.scenario}`)}</title><style>${CSS}</style></head>
<body><h1>${escapeHtml(`Simulation: ${result.scenario}, seed ${result.seed}`)}</h1>
<pre>${escapeHtml(formatTable(result))}</pre>
${charts.join("\n")}
</body></html>
`;
}

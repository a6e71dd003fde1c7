/** The terminal's view of a simulation: one row per policy, the figures side by side. */
import type { SimulationResult } from "./compare.ts";

const pct = (v: number | null) => (v === null ? "—" : `${(v * 100).toFixed(1)}%`);
const secs = (ms: number | null) => (ms === null ? "—" : `${(ms / 1000).toFixed(1)} s`);

const COLUMNS: Array<{ title: string; cell: (p: SimulationResult["policies"][number]) => string }> = [
  { title: "policy", cell: (p) => p.name },
  { title: "requests", cell: (p) => String(p.summary.created) },
  { title: "answered", cell: (p) => pct(p.summary.answerRate) },
  { title: "abandoned", cell: (p) => pct(p.summary.abandonmentRate) },
  { title: "callbacks", cell: (p) => String(p.summary.callbacks) },
  { title: "accept p50", cell: (p) => secs(p.summary.timeToAcceptP50Ms) },
  { title: "accept p90", cell: (p) => secs(p.summary.timeToAcceptP90Ms) },
  {
    title: "by stage d/b/r/n/q",
    cell: (p) => {
      const s = p.summary.answeredByStage;
      return [s.dedicated, s.branch, s.region, s.national, s.queue].join("/");
    },
  },
  { title: "offers", cell: (p) => String(p.summary.offers) },
  { title: "declined", cell: (p) => pct(p.summary.declineRate) },
  { title: "timed out", cell: (p) => pct(p.summary.timeoutRate) },
];

export function formatTable(result: SimulationResult): string {
  const rows = [COLUMNS.map((c) => c.title), ...result.policies.map((p) => COLUMNS.map((c) => c.cell(p)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const p = result.population;
  return [
    `${result.scenario} (seed ${result.seed}, ${result.date}): ${p.regions} regions, ${p.branches} branches, ${p.advisors} advisors (${p.noShows} no-shows), ${p.requests} requests`,
    line(rows[0]!),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
    "accept p50/p90: the branches' percentiles averaged, weighted by assigned requests (a percentile does not add up across branches).",
  ].join("\n");
}

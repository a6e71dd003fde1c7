/** The terminal's view of a comparison over seeds: per policy mean ± sd, the paired differences against the default, and the verdict. */
import type { SeedsResult } from "./seeds.ts";
import type { Spread } from "./stats.ts";
import { describeDifference } from "./verdict.ts";

const pctSpread = (s: Spread) => (s.mean === null ? "—" : `${(s.mean * 100).toFixed(2)}% ± ${s.sd === null ? "—" : (s.sd * 100).toFixed(2)}`);
const secSpread = (s: Spread) => (s.mean === null ? "—" : `${(s.mean / 1000).toFixed(2)} s ± ${s.sd === null ? "—" : (s.sd / 1000).toFixed(2)}`);

type Row = SeedsResult["policies"][number];

const COLUMNS: Array<{ title: string; cell: (p: Row) => string }> = [
  { title: "policy", cell: (p) => p.name },
  { title: "answered (mean ± sd)", cell: (p) => pctSpread(p.answerRate) },
  { title: "accept p50 (mean ± sd)", cell: (p) => secSpread(p.timeToAcceptP50Ms) },
  { title: "answered − default [95%]", cell: (p) => (p.vsDefault ? describeDifference(p.vsDefault.answerRate, "rate") : "") },
  { title: "accept p50 − default [95%]", cell: (p) => (p.vsDefault ? describeDifference(p.vsDefault.timeToAcceptP50Ms, "ms") : "") },
];

export function formatSeedsTable(result: SeedsResult): string {
  const rows = [COLUMNS.map((c) => c.title), ...result.policies.map((p) => COLUMNS.map((c) => c.cell(p)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const seeds = result.seeds;
  const lines = [
    `${result.scenario} (${result.date}), ${seeds.length} seeds: ${seeds.join(", ")}`,
    line(rows[0]!),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
    "differences are paired (the same seed's day under both policies); [95%] is the t interval of their mean. accept p50: branch medians weighted by assigned requests.",
  ];
  if (result.verdict) {
    lines.push(`verdict: ${result.verdict.summary}`);
    for (const j of result.verdict.judgements) lines.push(`  ${j.policy}: ${j.outcome} (${j.evidence})`);
  }
  return lines.join("\n");
}

/**
 * The four charts over the buckets: created vs assigned (bars), answer rate (line), answered by
 * stage (stacked bars) and time to accept p50/p90 (lines). Colours are dark enough for text on white
 * and every series is also named in the legend and the table, so colour is never the only cue.
 */
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFigure, type Column } from "./ChartFigure.tsx";
import { formatCount, formatMs, formatRate } from "./format.ts";
import { bucketLabel } from "./range.ts";
import type { BranchKpis, Kpis } from "./types.ts";

type Row = Kpis & { start: string; label: string };

const INK = "#1a1a1a";
const COLOURS = { blue: "#0b4f9c", green: "#1b5e20", purple: "#6a1b9a", orange: "#a04f00", grey: "#4a4a4a" };
const HEIGHT = 240;
const tick = { fill: INK, fontSize: 12 };
const STAGES = [
  ["dedicated", "Dedicated advisor", COLOURS.blue],
  ["branch", "Branch", COLOURS.green],
  ["region", "Region", COLOURS.purple],
  ["national", "National", COLOURS.orange],
  ["queue", "Queue", COLOURS.grey],
] as const;

const bucketColumn: Column<Row> = { label: "Bucket", value: (r) => r.label };
const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);

function Axes({ unit }: { unit?: string }) {
  return (
    <>
      <CartesianGrid strokeDasharray="3 3" stroke="#d0d0d0" />
      <XAxis dataKey="label" tick={tick} />
      <YAxis tick={tick} allowDecimals={unit !== undefined} unit={unit} />
      <Tooltip />
      <Legend wrapperStyle={{ color: INK }} />
    </>
  );
}

function CreatedAssigned({ rows }: { rows: Row[] }) {
  const columns: Column<Row>[] = [
    bucketColumn,
    { label: "Created", value: (r) => formatCount(r.created) },
    { label: "Assigned", value: (r) => formatCount(r.assigned) },
  ];
  return (
    <ChartFigure
      title="Created and assigned requests"
      description="bars per bucket, created next to assigned"
      rows={rows}
      columns={columns}
      testId="chart-created-assigned"
    >
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <BarChart data={rows} accessibilityLayer={false}>
          <Axes />
          <Bar dataKey="created" name="Created" fill={COLOURS.blue} isAnimationActive={false} />
          <Bar dataKey="assigned" name="Assigned" fill={COLOURS.green} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

function AnswerRate({ rows }: { rows: Row[] }) {
  const data = rows.map((r) => ({ label: r.label, answerRate: r.answerRate === null ? null : Math.round(r.answerRate * 1000) / 10 }));
  const columns: Column<Row>[] = [bucketColumn, { label: "Answer rate", value: (r) => formatRate(r.answerRate) }];
  return (
    <ChartFigure
      title="Answer rate"
      description="a line per bucket, in percent; no point where nothing was created"
      rows={rows}
      columns={columns}
      testId="chart-answer-rate"
    >
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <LineChart data={data} accessibilityLayer={false}>
          <Axes unit="%" />
          <Line dataKey="answerRate" name="Answer rate (%)" stroke={COLOURS.blue} strokeWidth={2} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

function ByStage({ rows }: { rows: Row[] }) {
  const data = rows.map((r) => ({ label: r.label, ...r.answeredByStage }));
  const columns: Column<Row>[] = [bucketColumn, ...STAGES.map(([key, label]) => ({ label, value: (r: Row) => formatCount(r.answeredByStage[key]) }))];
  return (
    <ChartFigure
      title="Answered by stage"
      description="stacked bars per bucket: assigned requests by the funnel stage that answered them"
      rows={rows}
      columns={columns}
      testId="chart-by-stage"
    >
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <BarChart data={data} accessibilityLayer={false}>
          <Axes />
          {STAGES.map(([key, label, colour]) => (
            <Bar key={key} dataKey={key} name={label} stackId="stage" fill={colour} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

function TimeToAccept({ rows }: { rows: Row[] }) {
  const data = rows.map((r) => ({ label: r.label, p50: seconds(r.timeToAcceptMs.p50), p90: seconds(r.timeToAcceptMs.p90) }));
  const columns: Column<Row>[] = [
    bucketColumn,
    { label: "Median", value: (r) => formatMs(r.timeToAcceptMs.p50) },
    { label: "90th percentile", value: (r) => formatMs(r.timeToAcceptMs.p90) },
  ];
  return (
    <ChartFigure
      title="Time to accept"
      description="two lines per bucket in seconds, the median and the 90th percentile"
      rows={rows}
      columns={columns}
      testId="chart-time-to-accept"
    >
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <LineChart data={data} accessibilityLayer={false}>
          <Axes unit=" s" />
          <Line dataKey="p50" name="Median (s)" stroke={COLOURS.blue} strokeWidth={2} isAnimationActive={false} />
          <Line dataKey="p90" name="90th percentile (s)" stroke={COLOURS.orange} strokeWidth={2} strokeDasharray="6 3" isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

export function KpiCharts({ kpis }: { kpis: BranchKpis }) {
  const rows: Row[] = kpis.buckets.map((b) => ({ ...b, label: bucketLabel(b.start, kpis.bucket, kpis.timezone) }));
  return (
    <section aria-labelledby="kpi-charts-title">
      <h2 id="kpi-charts-title">Per {kpis.bucket}</h2>
      <div className="kpi-charts">
        <CreatedAssigned rows={rows} />
        <AnswerRate rows={rows} />
        <ByStage rows={rows} />
        <TimeToAccept rows={rows} />
      </div>
    </section>
  );
}

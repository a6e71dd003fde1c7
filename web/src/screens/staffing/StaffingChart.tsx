/**
 * Advisors needed (bars) against advisors available (lines: the hour's mean and its most at once)
 * per local hour. Hours under target have orange bars and a "*" after their label, and the table
 * says "under target" in words, so colour is never the only cue. Recharts, as the KPI charts.
 */
import { Bar, CartesianGrid, Cell, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { ChartFigure, type Column } from "../kpis/ChartFigure.tsx";
import type { BranchStaffing, StaffingHour } from "./types.ts";

type Row = StaffingHour & { label: string };

const INK = "#1a1a1a";
const COLOURS = { needed: "#0b4f9c", under: "#a04f00", available: "#1b5e20", max: "#4a4a4a" };
const tick = { fill: INK, fontSize: 12 };
const two = (n: number) => String(n).padStart(2, "0");
const oneDecimal = (x: number) => (Math.round(x * 10) / 10).toFixed(1);

/** "09:00", with "*" for an hour under target; a repeated hour (daylight saving) says so. */
export function hourLabel(hour: StaffingHour, index: number, hours: StaffingHour[]): string {
  const repeated = hours.findIndex((h) => h.localHour === hour.localHour) !== index;
  return `${two(hour.localHour)}:00${repeated ? " (2nd)" : ""}${hour.underTarget ? "*" : ""}`;
}

const COLUMNS: Column<Row>[] = [
  { label: "Hour", value: (r) => r.label },
  { label: "Requests", value: (r) => String(r.arrivals) },
  {
    label: "Mean handle time",
    value: (r) => (r.handleSeconds === null ? "–" : `${Math.round(r.handleSeconds)} s${r.handleBasis === "branch-28-days" ? " (branch, 28 days)" : ""}`),
  },
  { label: "Advisors needed", value: (r) => (r.advisorsNeeded === null ? "–" : String(r.advisorsNeeded)) },
  { label: "Available (mean)", value: (r) => oneDecimal(r.advisorsAvailable.mean) },
  { label: "Available (most)", value: (r) => String(r.advisorsAvailable.max) },
  { label: "Status", value: (r) => (r.underTarget ? "under target" : "on target") },
];

export function StaffingChart({ staffing }: { staffing: BranchStaffing }) {
  const rows: Row[] = staffing.hours.map((h, i, all) => ({ ...h, label: hourLabel(h, i, all) }));
  const data = rows.map((r) => ({
    label: r.label,
    needed: r.advisorsNeeded,
    mean: Math.round(r.advisorsAvailable.mean * 100) / 100,
    max: r.advisorsAvailable.max,
    under: r.underTarget,
  }));
  return (
    <ChartFigure
      title="Advisors needed and available"
      description={`bars per local hour for the advisors needed to answer ${staffing.target.percent}% within ${staffing.target.seconds} s, orange and marked * where the hour was under target; lines for the advisors available, the hour's mean and its most at once`}
      rows={rows}
      columns={COLUMNS}
      testId="chart-staffing"
    >
      <ResponsiveContainer width="100%" height={280}>
        <ComposedChart data={data} accessibilityLayer={false}>
          <CartesianGrid strokeDasharray="3 3" stroke="#d0d0d0" />
          <XAxis dataKey="label" tick={tick} interval={0} angle={-45} textAnchor="end" height={56} />
          <YAxis tick={tick} allowDecimals={false} />
          <Tooltip />
          <Legend wrapperStyle={{ color: INK }} />
          <Bar dataKey="needed" name="Needed" fill={COLOURS.needed} isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.label} fill={d.under ? COLOURS.under : COLOURS.needed} />
            ))}
          </Bar>
          <Line dataKey="mean" name="Available (mean)" stroke={COLOURS.available} strokeWidth={2} isAnimationActive={false} />
          <Line dataKey="max" name="Available (most at once)" stroke={COLOURS.max} strokeDasharray="6 3" isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </ChartFigure>
  );
}

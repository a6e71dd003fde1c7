/**
 * Points per advisor as a bar chart. The chart is one image with a name that says what it shows;
 * its data is in the results table next to it, which is the version a screen reader reads.
 */
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface ChartRow {
  label: string;
  points: number;
}

export function PointsChart({ rows, title, tableName }: { rows: ChartRow[]; title: string; tableName: string }) {
  return (
    <figure className="chart" aria-labelledby="points-chart-caption">
      <figcaption id="points-chart-caption">{title}</figcaption>
      <div role="img" aria-label={`${title}: bar chart; the same figures are in the table "${tableName}" below`} data-testid="points-chart">
        <ResponsiveContainer width="100%" height={Math.max(200, rows.length * 36 + 60)}>
          {/* No accessibility layer: the wrapper is the chart's one accessible element, the table its data. */}
          <BarChart data={rows} layout="vertical" margin={{ left: 16, right: 24 }} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" stroke="#d0d0d0" />
            <XAxis type="number" allowDecimals={false} stroke="#4a4a4a" />
            <YAxis type="category" dataKey="label" width={180} stroke="#4a4a4a" />
            <Tooltip />
            <Bar dataKey="points" name="Points" fill="#0b4f9c" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </figure>
  );
}

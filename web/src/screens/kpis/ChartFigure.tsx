/**
 * A chart with its words: a caption, the plot as one image with a name (the plot itself is not
 * focusable), and the same figures as a table inside <details>, for a screen reader or a keyboard.
 */
import { type ReactNode, useId } from "react";

export interface Column<Row> {
  label: string;
  value(row: Row): string;
}

interface Props<Row> {
  title: string;
  /** What the plot draws, for its accessible name. */
  description: string;
  rows: Row[];
  columns: Column<Row>[];
  testId: string;
  children: ReactNode;
}

export function ChartFigure<Row>({ title, description, rows, columns, testId, children }: Props<Row>) {
  const captionId = useId();
  return (
    <figure className="kpi-chart" aria-labelledby={captionId} data-testid={testId}>
      <figcaption id={captionId}>{title}</figcaption>
      <div role="img" aria-label={`${title}: ${description}. The figures follow as a table.`} className="kpi-plot">
        {children}
      </div>
      <details>
        <summary>{title}: the figures as a table</summary>
        <table>
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.label} scope="col">
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              // Buckets never reorder: the index is a stable key.
              // biome-ignore lint/suspicious/noArrayIndexKey: see above
              <tr key={i}>
                {columns.map((c, j) =>
                  j === 0 ? (
                    <th key={c.label} scope="row">
                      {c.value(row)}
                    </th>
                  ) : (
                    <td key={c.label}>{c.value(row)}</td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

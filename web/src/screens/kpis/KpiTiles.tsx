/** The range's totals, one tile per figure; each tile's text is made by kpis/format.ts. */
import { KPI_TILES } from "./format.ts";
import type { Kpis } from "./types.ts";

export function KpiTiles({ total }: { total: Kpis }) {
  return (
    <section aria-labelledby="kpi-totals-title">
      <h2 id="kpi-totals-title">Totals over the range</h2>
      <dl className="kpi-tiles">
        {KPI_TILES.map((tile) => (
          <div key={tile.id} className="kpi-tile">
            <dt>{tile.label}</dt>
            <dd data-testid={`kpi-${tile.id}`}>{tile.value(total)}</dd>
            {tile.hint && <dd className="kpi-hint">{tile.hint}</dd>}
          </div>
        ))}
      </dl>
    </section>
  );
}

/** Settled periods of the branch, newest first, a page at a time, each with its report and CSV. */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { DownloadCsv } from "./DownloadCsv.tsx";
import { useSettlements } from "./queries.ts";

const when = (iso: string) => new Date(iso).toLocaleDateString();

export function SettlementList({ branchId, selected, onOpen }: { branchId: string; selected: string | null; onOpen(id: string): void }) {
  const settlements = useSettlements(branchId);
  const items = settlements.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="settlements-title" className="panel">
      <h2 id="settlements-title">Settled periods</h2>
      {settlements.error && <ErrorNotice error={settlements.error} title="The settlements could not be loaded" />}
      {settlements.isPending && <p>Loading…</p>}
      {settlements.isSuccess && items.length === 0 && <p>No period has been settled yet. Weeks are settled after they close.</p>}
      {items.length > 0 && (
        <table data-testid="settlements">
          <caption className="visually-hidden">Settled periods, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Period</th>
              <th scope="col">From</th>
              <th scope="col">Until</th>
              <th scope="col">Advisors paid</th>
              <th scope="col">Points</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.id} aria-current={s.id === selected ? "true" : undefined}>
                <th scope="row">{s.periodKey}</th>
                <td>{when(s.start)}</td>
                <td>{when(s.end)}</td>
                <td>{s.advisors}</td>
                <td>{s.points}</td>
                <td className="actions">
                  <button type="button" onClick={() => onOpen(s.id)}>
                    View report<span className="visually-hidden"> of period {s.periodKey}</span>
                  </button>{" "}
                  <DownloadCsv branchId={branchId} settlementId={s.id} periodKey={s.periodKey} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {settlements.hasNextPage && (
        <button type="button" onClick={() => void settlements.fetchNextPage()} disabled={settlements.isFetchingNextPage}>
          {settlements.isFetchingNextPage ? "Loading…" : "Show older periods"}
        </button>
      )}
    </section>
  );
}

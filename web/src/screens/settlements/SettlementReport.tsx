/** One settled period's report as recorded when it closed: what each advisor is paid, by rule. */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { DownloadCsv } from "./DownloadCsv.tsx";
import { type Settlement, useLeaderboard, useSettlement } from "./queries.ts";

const byRuleText = (byRule: Record<string, number>) =>
  Object.entries(byRule)
    .map(([rule, points]) => `${rule}: ${points}`)
    .join(", ");

function ReportTable({ settlement, names }: { settlement: Settlement; names: Map<string, string> }) {
  const { report } = settlement;
  return (
    <table data-testid="settlement-report">
      <caption>Payable points per advisor, {report.period.key}</caption>
      <thead>
        <tr>
          <th scope="col">Advisor</th>
          <th scope="col">Points paid</th>
          <th scope="col">Awards</th>
          <th scope="col">By rule</th>
          <th scope="col">Notes</th>
        </tr>
      </thead>
      <tbody>
        {report.advisors.map((line) => (
          <tr key={line.advisorId}>
            <th scope="row">
              {names.get(line.advisorId) ?? ""} <span className="muted">{line.advisorId}</span>
            </th>
            <td>{line.points}</td>
            <td>{line.awards}</td>
            <td>{byRuleText(line.byRule)}</td>
            <td>
              {line.shortfall ? `${line.shortfall} awarded points not paid. ` : ""}
              {line.note ?? ""}
            </td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">
            Total, {report.totals.advisors} advisor{report.totals.advisors === 1 ? "" : "s"}
          </th>
          <td>{report.totals.points}</td>
          <td>{report.totals.awards}</td>
          <td colSpan={2} />
        </tr>
      </tfoot>
    </table>
  );
}

export function SettlementReport({ branchId, settlementId, onClose }: { branchId: string; settlementId: string; onClose(): void }) {
  const settlement = useSettlement(branchId, settlementId);
  // Names as the directory has them now; an advisor who has left shows by id alone.
  const names = new Map((useLeaderboard(branchId).data ?? []).map((e) => [e.advisorId, e.name]));
  return (
    <section aria-labelledby="report-title" className="panel" data-testid="settlement-report-panel">
      <h2 id="report-title">Report{settlement.data ? `: ${settlement.data.periodKey}` : ""}</h2>
      {settlement.error && <ErrorNotice error={settlement.error} title="The report could not be loaded" />}
      {!settlement.data && !settlement.error && <p>Loading…</p>}
      {settlement.data && (
        <>
          <p>
            {new Date(settlement.data.start).toLocaleString()} to {new Date(settlement.data.end).toLocaleString()}, closed{" "}
            {new Date(settlement.data.closedAt).toLocaleString()}.
          </p>
          {settlement.data.report.advisors.length === 0 ? (
            <p>Nobody earned points in this period.</p>
          ) : (
            <ReportTable settlement={settlement.data} names={names} />
          )}
        </>
      )}
      <div className="form-actions">
        {settlement.data && <DownloadCsv branchId={branchId} settlementId={settlementId} periodKey={settlement.data.periodKey} />}
        <button type="button" onClick={onClose}>
          Close the report
        </button>
      </div>
    </section>
  );
}

/** The hours under target, each with its suggested surge rule and why it is that size. */
import { hourLabel } from "./StaffingChart.tsx";
import type { BranchStaffing } from "./types.ts";

export function SurgeList({ staffing }: { staffing: BranchStaffing }) {
  const under = staffing.hours.map((h, i, all) => ({ hour: h, label: hourLabel(h, i, all) })).filter(({ hour }) => hour.underTarget && hour.surge);
  return (
    <section aria-labelledby="staffing-surges-title" data-testid="staffing-surges">
      <h2 id="staffing-surges-title">Hours under target: {under.length}</h2>
      {under.length === 0 ? (
        <p>Every hour had the advisors it needed.</p>
      ) : (
        <ul className="staffing-surges">
          {under.map(({ hour, label }) => (
            <li key={hour.start} data-testid="staffing-surge">
              <p>
                <strong>{label.replace(/\*$/, "")}</strong>: {hour.advisorsNeeded} needed, {hour.advisorsAvailable.mean.toFixed(1)} available on average.
                Suggested surge: ×{hour.surge!.multiplier} on accepts.
              </p>
              <p className="muted">{hour.surge!.reasoning}</p>
              <details>
                <summary>The rule, for the incentive rules</summary>
                <pre>{JSON.stringify(hour.surge!.rule, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

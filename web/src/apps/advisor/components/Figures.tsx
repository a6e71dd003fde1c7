/**
 * The advisor's own figures: points awarded today (local day), points this period, settled points
 * awaiting payout, and their rank on the branch leaderboard. Awards are posted by a background job
 * shortly after the events that earn them, so the figures are re-read every minute.
 */
import { useQuery } from "@tanstack/react-query";
import { ErrorNotice } from "../../../components/ErrorNotice.tsx";
import { advisorKeys, readEarnings } from "../queries.ts";
import { pointsToday } from "../figures.ts";

const REFRESH_MS = 60_000;

export function Figures() {
  const earnings = useQuery({ queryKey: advisorKeys.earnings, queryFn: readEarnings, refetchInterval: REFRESH_MS });
  return (
    <section aria-labelledby="figures-title" className="panel">
      <h2 id="figures-title">Your figures</h2>
      {earnings.error && <ErrorNotice error={earnings.error} title="Your figures could not be read" />}
      {earnings.isPending && <p>{earnings.fetchStatus === "paused" ? "Waiting for the network…" : "Loading…"}</p>}
      {earnings.data && (
        <dl className="figures" data-testid="figures">
          <div>
            <dt>Points today</dt>
            <dd>{pointsToday(earnings.data)}</dd>
          </div>
          <div>
            <dt>Points this period</dt>
            <dd>{earnings.data.balance.points}</dd>
          </div>
          <div>
            <dt>Settled, to be paid</dt>
            <dd>{earnings.data.balance.payable}</dd>
          </div>
          <div>
            <dt>Rank in your branch</dt>
            <dd>{earnings.data.rank === null ? "Not ranked" : `#${earnings.data.rank}`}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}

/** Advisors by points in the open period (since the last settlement); equal points share a rank. */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { useLeaderboard } from "./queries.ts";

export function Leaderboard({ branchId }: { branchId: string }) {
  const board = useLeaderboard(branchId);
  return (
    <section aria-labelledby="leaderboard-title" className="panel">
      <h2 id="leaderboard-title">Leaderboard: the open period</h2>
      {board.error && <ErrorNotice error={board.error} title="The leaderboard could not be loaded" />}
      {!board.data && !board.error && <p>Loading…</p>}
      {board.data?.length === 0 && <p>This branch has no advisors.</p>}
      {board.data && board.data.length > 0 && (
        <table data-testid="leaderboard">
          <caption className="visually-hidden">Advisors by points in the open period</caption>
          <thead>
            <tr>
              <th scope="col">Rank</th>
              <th scope="col">Advisor</th>
              <th scope="col">Points</th>
            </tr>
          </thead>
          <tbody>
            {board.data.map((e) => (
              <tr key={e.advisorId} data-advisor={e.advisorId}>
                <td>{e.rank}</td>
                <th scope="row">
                  {e.name} <span className="muted">{e.advisorId}</span>
                </th>
                <td>{e.points}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The feed's state and the latest branch snapshot's counts; activity is announced politely. */
import type { Activity, FeedStatus, Snapshot } from "../../live/useBranchFeed.ts";

const STATUS_TEXT: Record<FeedStatus, string> = {
  connecting: "Connecting to the live feed…",
  live: "Live",
  reconnecting: "Feed lost; reconnecting…",
  offline: "Offline: the feed resumes when the network is back",
};

export function SnapshotPanel({ status, snapshot, lastActivity }: { status: FeedStatus; snapshot: Snapshot | null; lastActivity: Activity | null }) {
  const counts: Array<[string, number | undefined]> = [
    ["Queue depth", snapshot?.queueDepth],
    ["Available", snapshot?.advisors.available],
    ["Busy", snapshot?.advisors.busy],
    ["Away", snapshot?.advisors.away],
    ["Offline", snapshot?.advisors.offline],
  ];
  return (
    <section aria-labelledby="snapshot-title" className="panel">
      <h2 id="snapshot-title">Branch now</h2>
      <p className={`feed-status feed-${status}`} data-testid="feed-status">
        {STATUS_TEXT[status]}
      </p>
      <dl className="counts" data-testid="snapshot-counts">
        {counts.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value ?? "–"}</dd>
          </div>
        ))}
      </dl>
      <p aria-live="polite" className="muted" data-testid="last-activity">
        {lastActivity ? `Latest: ${lastActivity.event} ${lastActivity.requestId} at ${new Date(lastActivity.at).toLocaleTimeString()}` : "No activity yet."}
      </p>
    </section>
  );
}

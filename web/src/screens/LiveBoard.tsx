/** The live branch board: the snapshot, the queue, advisors online and requests in progress, refreshed by the socket feed. */
import { useSession } from "../auth/session.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { useBranchFeed } from "../live/useBranchFeed.ts";
import { AdvisorsPanel } from "./board/AdvisorsPanel.tsx";
import { InFlightPanel } from "./board/InFlightPanel.tsx";
import { QueuePanel } from "./board/QueuePanel.tsx";
import { SnapshotPanel } from "./board/SnapshotPanel.tsx";
import type { ScreenProps } from "./types.ts";

function Board({ token, branchId }: { token: string; branchId: string }) {
  const feed = useBranchFeed(token, branchId);
  return (
    <div className="board">
      <SnapshotPanel {...feed} />
      <AdvisorsPanel branchId={branchId} />
      <QueuePanel branchId={branchId} />
      <InFlightPanel branchId={branchId} />
    </div>
  );
}

export function LiveBoard({ branchId }: ScreenProps) {
  const { token } = useSession();
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Live board{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId && token ? <Board key={branchId} token={token} branchId={branchId} /> : <p>Choose a branch to see its board.</p>}
    </section>
  );
}

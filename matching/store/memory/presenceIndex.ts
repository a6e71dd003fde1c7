/**
 * Presence by heartbeat for the in-memory store, so that the presence sweep (findLapsedAdvisors)
 * and the supply gauge (countAvailable) never scan every registered advisor: one ScoreIndex of the
 * advisors who are not offline and one of those who are available, both scored by heartbeatAt.
 * The Redis adapter keeps the same two sets (redis/keys.ts: heartbeats, available).
 */
import type { AdvisorState } from "../port.ts";
import { ScoreIndex } from "./scoreIndex.ts";

/** A restored document could carry a non-number; treat it as "never", like the candidate index does. */
const heartbeatOf = (state: AdvisorState): number => {
  const at = state.supply.heartbeatAt;
  return typeof at === "number" && !Number.isNaN(at) ? at : 0;
};

export class PresenceIndex {
  private readonly online = new ScoreIndex();
  private readonly available = new ScoreIndex();

  /** Re-indexes one advisor from its current state. */
  update(state: AdvisorState): void {
    const id = state.profile.id;
    const heartbeatAt = heartbeatOf(state);
    if (state.supply.presence === "offline") this.online.delete(id);
    else this.online.set(id, heartbeatAt);
    if (state.supply.presence === "available") this.available.set(id, heartbeatAt);
    else this.available.delete(id);
  }

  /** Up to `limit` advisors not offline with heartbeatAt < `before`, oldest first, ties by id. */
  lapsed(before: number, limit: number): string[] {
    const result: string[] = [];
    for (let position = 0; result.length < limit; position++) {
      const entry = this.online.at(position);
      if (!entry || !(entry.score < before)) break;
      result.push(entry.id);
    }
    return result;
  }

  countAvailable(after: number): number {
    return this.available.countFrom(after);
  }

  clear(): void {
    this.online.clear();
    this.available.clear();
  }
}

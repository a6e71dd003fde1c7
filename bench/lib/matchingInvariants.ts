/**
 * What a throughput run must not break, checked at its end: a figure from a run that assigned a
 * request twice or overfilled an advisor is not a figure. Records what the run saw as it went,
 * then compares it with the store's final state.
 */
import type { AdvisorState, MatchingStore } from "../../matching/store/port.ts";

const READ_BATCH = 500;

export class MatchingInvariants {
  private readonly winners = new Map<string, string[]>();
  private readonly problems: string[] = [];

  /** A request the run created: checked at the end whether or not anyone won it. */
  request(requestId: string): void {
    if (!this.winners.has(requestId)) this.winners.set(requestId, []);
  }

  win(requestId: string, advisorId: string): void {
    this.winners.get(requestId)!.push(advisorId);
  }

  /** An advisor state a capacity step returned: it must never be over capacity. */
  observe(advisor: AdvisorState | undefined): void {
    if (advisor && advisor.assignments.length + advisor.pushHolds.length > advisor.profile.maxConcurrent) {
      this.problems.push(
        `${advisor.profile.id} held ${advisor.assignments.length} assignments + ${advisor.pushHolds.length} push holds over capacity ${advisor.profile.maxConcurrent}`,
      );
    }
  }

  /**
   * Throws when any request was won more than once (by the run's count or by its recorded offers),
   * a winner is not the recorded assignee, or an advisor is over capacity or, the run being over,
   * still holds a slot (a leak would saturate the population and flatter nothing but is still a bug).
   */
  async verify(store: MatchingStore, advisorIds: string[]): Promise<{ requests: number; won: number }> {
    const problems = this.problems;
    const requestIds = [...this.winners.keys()];
    let won = 0;
    for (let start = 0; start < requestIds.length; start += READ_BATCH) {
      const ids = requestIds.slice(start, start + READ_BATCH);
      const requests = await Promise.all(ids.map((id) => store.getRequest(id)));
      ids.forEach((id, i) => {
        const winners = this.winners.get(id)!;
        const request = requests[i];
        const accepted = request?.offers.filter((o) => o.outcome === "accepted") ?? [];
        if (winners.length > 1) problems.push(`${id} won ${winners.length} times (${winners.join(", ")})`);
        if (accepted.length > 1) problems.push(`${id} has ${accepted.length} accepted offers`);
        if (winners.length === 1) {
          won++;
          if (request?.assignedAdvisorId !== winners[0]) problems.push(`${id} won by ${winners[0]} but assigned to ${request?.assignedAdvisorId ?? "nobody"}`);
        }
      });
    }
    for (let start = 0; start < advisorIds.length; start += READ_BATCH) {
      for (const advisor of await store.getAdvisors(advisorIds.slice(start, start + READ_BATCH))) {
        if (!advisor) continue;
        this.observe(advisor);
        const { id } = advisor.profile;
        if (advisor.supply.active !== advisor.assignments.length)
          problems.push(`${id}: supply.active ${advisor.supply.active} but ${advisor.assignments.length} assignments`);
        if (advisor.assignments.length || advisor.pushHolds.length)
          problems.push(`${id}: still holds ${advisor.assignments.join(", ")} ${advisor.pushHolds.join(", ")} after every request finished`);
      }
    }
    if (problems.length) throw new Error(`matching invariants broken (${problems.length}):\n  ${problems.slice(0, 20).join("\n  ")}`);
    return { requests: requestIds.length, won };
  }
}

/**
 * Branch policies, cached briefly: the funnel consults the policy on every step, and a manager's
 * change should still take effect within seconds on every process.
 */
import type { Clock } from "../../core/clock.ts";
import type { DispatchPolicy } from "../domain/policy.ts";
import type { MatchingRecords } from "../records/port.ts";

export class PolicyCache {
  private readonly entries = new Map<string, { policy: DispatchPolicy; until: number }>();

  constructor(
    private readonly records: Pick<MatchingRecords, "policyFor">,
    private readonly clock: Clock,
    private readonly ttlMs: number = 2_000,
  ) {}

  async get(branchId: string): Promise<DispatchPolicy> {
    const now = this.clock.now();
    const hit = this.entries.get(branchId);
    if (hit && hit.until > now) return hit.policy;
    const policy = await this.records.policyFor(branchId);
    this.entries.set(branchId, { policy, until: now + this.ttlMs });
    return policy;
  }

  /** Drops a branch's entry, so this process sees a new policy at once. */
  invalidate(branchId: string): void {
    this.entries.delete(branchId);
  }
}

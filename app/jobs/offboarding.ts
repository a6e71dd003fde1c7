/**
 * Offboarding sweep: offboarding commits in PostgreSQL first and then withdraws the advisor's
 * offers and re-dispatches their requests in the live state. If the process dies in between, this
 * job finishes the live phase for every offboarded advisor still holding an open offer or an
 * assigned request. The live phase is idempotent, so a run racing a live offboarding is harmless.
 */
import { finishOffboarding, unfinishedOffboardings, type OffboardDeps } from "../../compliance/offboarding/offboard.ts";

/** Advisors finished per run; the rest wait for the next run. */
const BATCH = 50;

export async function finishPendingOffboardings(
  deps: OffboardDeps & { shouldContinue?: () => boolean },
): Promise<{ advisors: number; offersWithdrawn: number; requestsRedispatched: number }> {
  const shouldContinue = deps.shouldContinue ?? (() => true);
  const totals = { advisors: 0, offersWithdrawn: 0, requestsRedispatched: 0 };
  for (const advisorId of await unfinishedOffboardings(deps.prisma, BATCH)) {
    if (!shouldContinue()) break;
    const done = await finishOffboarding(deps, advisorId);
    totals.advisors++;
    totals.offersWithdrawn += done.offersWithdrawn.length;
    totals.requestsRedispatched += done.requestsRedispatched.length;
  }
  return totals;
}

/**
 * Licence-expiry withdrawal: an open offer must not stay in front of an advisor who, since it was
 * made, lost the licence the request needs (it lapsed at validUntil, or was suspended or revoked).
 * Eligibility is checked when an offer is made and again when it is accepted, but the advisor would
 * still see the offer until then; this job withdraws it and moves the request on.
 *
 * PostgreSQL is the directory, so it decides who lost a licence. The withdrawal itself is the
 * engine's atomic closeOffer, so an offer answered in the meantime is left alone.
 */
import { Prisma } from "../generated/prisma/client.ts";
import type { Clock } from "../core/clock.ts";
import type { PrismaClient } from "../platform/database.ts";
import type { MatchingEngine } from "../matching/engine/engine.ts";

/** Offers handled per run; the rest wait for the next run, a minute later. */
const BATCH = 500;
const LICENCE_WITHDRAW_REASON = "licence_lapsed";
/** The reason on offers withdrawn because an admin changed the licence (register, not the calendar). */
export const LICENCE_CHANGED_REASON = "licence_changed";

export interface LicenceExpiryDeps {
  engine: Pick<MatchingEngine, "syncAdvisor" | "withdrawOffer">;
  prisma: PrismaClient;
  clock: Clock;
  /** Checked between offers: false stops the run (leadership lost, shutting down). */
  shouldContinue?: () => boolean;
}

export interface WithdrawalScope {
  /**
   * Only these advisors' offers (their licences just changed in the register). Each of them is
   * re-synced even without an open offer, so their live profile drops a suspended or revoked
   * licence and nothing new is offered for it; a reinstated one is served the waiting queue.
   */
  advisorIds?: readonly string[];
  /** Announced with each withdrawal (offer.withdrawn). */
  reason?: string;
}

/**
 * Open offers, on live requests and not yet expired (expired ones time out on their own, and a row
 * the live state already closed must not hold up the batch for long), whose advisor holds no active
 * licence of the request's kind valid now. Validity is the half-open [validFrom, validUntil), as in
 * matching/domain/eligibility.ts. Times are compared in UTC, as Prisma stores them.
 */
async function findUnlicensedOffers(
  prisma: PrismaClient,
  now: number,
  limit: number,
  advisorIds?: readonly string[],
): Promise<Array<{ offerId: string; advisorId: string; requestId: string }>> {
  if (advisorIds?.length === 0) return [];
  const ofAdvisors = advisorIds ? Prisma.sql`AND o."advisorId" IN (${Prisma.join(advisorIds)})` : Prisma.empty;
  return prisma.$queryRaw<Array<{ offerId: string; advisorId: string; requestId: string }>>`
    SELECT o."id" AS "offerId", o."advisorId" AS "advisorId", o."requestId" AS "requestId"
    FROM "Offer" o
    JOIN "ServiceRequest" r ON r."id" = o."requestId"
    WHERE o."outcome" IS NULL
      ${ofAdvisors}
      AND r."status" IN ('pending', 'offered')
      AND o."expiresAt" > (to_timestamp(${now}::double precision / 1000) AT TIME ZONE 'UTC')
      AND NOT EXISTS (
        SELECT 1 FROM "Licence" l
        WHERE l."advisorId" = o."advisorId"
          AND l."kind" = r."requiredLicence"
          AND l."status" = 'active'
          AND l."validFrom" <= (to_timestamp(${now}::double precision / 1000) AT TIME ZONE 'UTC')
          AND l."validUntil" > (to_timestamp(${now}::double precision / 1000) AT TIME ZONE 'UTC')
      )
    ORDER BY o."sentAt", o."id"
    LIMIT ${limit}`;
}

export async function withdrawUnlicensedOffers(deps: LicenceExpiryDeps, scope: WithdrawalScope = {}): Promise<{ found: number; withdrawn: number }> {
  const shouldContinue = deps.shouldContinue ?? (() => true);
  const offers = await findUnlicensedOffers(deps.prisma, deps.clock.now(), BATCH, scope.advisorIds);
  // Re-sync each advisor first, so the live profile carries the lapsed licence: the funnel step that
  // follows each withdrawal must not offer the request straight back to them, and a suspended or
  // revoked licence would otherwise still count as active in the live state.
  for (const advisorId of new Set([...(scope.advisorIds ?? []), ...offers.map((o) => o.advisorId)])) {
    if (!shouldContinue()) return { found: offers.length, withdrawn: 0 };
    await deps.engine.syncAdvisor(advisorId);
  }
  let withdrawn = 0;
  for (const { offerId, requestId } of offers) {
    if (!shouldContinue()) break;
    if (await deps.engine.withdrawOffer(offerId, scope.reason ?? LICENCE_WITHDRAW_REASON, requestId)) withdrawn++;
  }
  return { found: offers.length, withdrawn };
}

/**
 * The status a licence is shown with. The register stores what an issuer said (active, suspended,
 * revoked); validity is a date, so "expired" is derived at read time rather than written by a job:
 * an active licence past its validUntil reads `expired`, the moment it lapses (validity is the half-open [validFrom, validUntil), as isValidAt in
 * matching/domain/eligibility.ts, which already refuses it by date); this keeps the views
 * from saying `active` about a licence no advisor may use.
 */
import type { LicenceStatus } from "../matching/domain/types.ts";

export const SHOWN_LICENCE_STATUSES = ["active", "suspended", "revoked", "expired"] as const;
export type ShownLicenceStatus = (typeof SHOWN_LICENCE_STATUSES)[number];

export function shownLicenceStatus(licence: { status: LicenceStatus; validUntil: Date }, now: Date): ShownLicenceStatus {
  if (licence.status === "active" && licence.validUntil.getTime() <= now.getTime()) return "expired";
  return licence.status;
}

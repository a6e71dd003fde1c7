/**
 * Hard eligibility: may this advisor be offered this request at all, right now?
 *
 * Ranking only orders advisors who pass here. Every rule is regulatory or operational, never a
 * preference, so a failure is final for this offer and the reason is recorded for compliance.
 * Pure: the caller supplies the clock (`now`) and every fact, so a decision can be replayed.
 */
import type { AdvisorProfile, AdvisorSupply, LicenceFact, Presence, RequestFacts } from "./types.ts";

export type IneligibleReason = "STATUS" | "PRESENCE" | "CAPACITY" | "LICENCE" | "SUITABILITY" | "LANGUAGE" | "EXCLUDED";

/** Every reason, in the order the rules are checked (first failure wins). */
export const INELIGIBLE_REASONS = [
  "EXCLUDED",
  "STATUS",
  "PRESENCE",
  "CAPACITY",
  "LICENCE",
  "SUITABILITY",
  "LANGUAGE",
] as const satisfies readonly IneligibleReason[];

/**
 * What the compliance record stores per offer: the facts that made the advisor eligible at that
 * moment, copied so later edits to the profile cannot rewrite history.
 */
export interface EligibilitySnapshot {
  checkedAt: number;
  licence: Pick<LicenceFact, "id" | "kind" | "number" | "issuer" | "validFrom" | "validUntil">;
  suitability: { advisorMaxRisk: number; clientRisk: number };
  language: { requested: string | null; advisor: string[] };
  presence: Presence;
  active: number;
  pendingPush: number;
  maxConcurrent: number;
}

export type EligibilityResult = { eligible: true; snapshot: EligibilitySnapshot } | { eligible: false; reason: IneligibleReason; detail: string };

/**
 * Which capacity question is being asked:
 * - "push": we are about to hold a slot for a push offer, so outstanding push offers count too.
 * - "broadcast": a grab broadcast holds no slot, so only assignments in progress count.
 * - "accept": an accept turns an offer into an assignment; a push offer's own slot is being
 *   converted, so counting pending pushes would make an advisor unable to accept their own offer.
 */
export type CapacityRule = "push" | "broadcast" | "accept";

export interface EligibilityInput {
  advisor: AdvisorProfile;
  supply: AdvisorSupply;
  request: RequestFacts;
  now: number;
  presenceTtlMs: number;
  capacityRule: CapacityRule;
  /** True when the advisor already declined this request or let an offer for it time out. */
  excluded?: boolean;
}

type Failure = { eligible: false; reason: IneligibleReason; detail: string };

const fail = (reason: IneligibleReason, detail: string): Failure => ({ eligible: false, reason, detail });
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Checks the hard rules in a fixed order and returns the first failure, or a snapshot of the facts
 * that made the advisor eligible.
 *
 * The order is part of the contract: the recorded reason must not depend on evaluation accident,
 * and cheap, volatile checks (exclusion, status, presence, capacity) come before document checks.
 */
export function checkEligibility(input: EligibilityInput): EligibilityResult {
  const { advisor, supply, request, now } = input;

  if (input.excluded === true) return fail("EXCLUDED", "advisor declined or timed out on this request before");

  if (advisor.status !== "active") return fail("STATUS", `advisor is ${advisor.status}`);

  const presenceFailure = checkPresence(supply, now, input.presenceTtlMs);
  if (presenceFailure) return presenceFailure;

  const capacityFailure = checkCapacity(supply, advisor.maxConcurrent, input.capacityRule);
  if (capacityFailure) return capacityFailure;

  const licence = findValidLicence(advisor.licences, request.requiredLicence, now);
  if (!licence.ok) return licence.failure;

  if (advisor.suitabilityMaxRisk < request.riskLevel) {
    return fail("SUITABILITY", `risk ${request.riskLevel} above scope ${advisor.suitabilityMaxRisk}`);
  }

  if (!speaksLanguage(advisor.languages, request.language)) {
    return fail("LANGUAGE", `language ${request.language} not in [${advisor.languages.join(", ")}]`);
  }

  const { id, kind, number, issuer, validFrom, validUntil } = licence.licence;
  return {
    eligible: true,
    snapshot: {
      checkedAt: now,
      licence: { id, kind, number, issuer, validFrom, validUntil },
      suitability: { advisorMaxRisk: advisor.suitabilityMaxRisk, clientRisk: request.riskLevel },
      language: { requested: request.language, advisor: [...advisor.languages] },
      presence: supply.presence,
      active: supply.active,
      pendingPush: supply.pendingPush,
      maxConcurrent: advisor.maxConcurrent,
    },
  };
}

/**
 * An "available" flag alone is not enough: a crashed client never says goodbye, so a heartbeat at
 * least `presenceTtlMs` old means offline whatever the flag says.
 */
function checkPresence(supply: AdvisorSupply, now: number, presenceTtlMs: number): Failure | null {
  if (supply.presence !== "available") return fail("PRESENCE", `presence ${supply.presence}`);
  const age = now - supply.heartbeatAt;
  if (age >= presenceTtlMs) return fail("PRESENCE", `heartbeat ${age}ms old, limit ${presenceTtlMs}ms`);
  return null;
}

function checkCapacity(supply: AdvisorSupply, maxConcurrent: number, rule: CapacityRule): Failure | null {
  if (rule === "push") {
    const held = supply.active + supply.pendingPush;
    if (held < maxConcurrent) return null;
    return fail("CAPACITY", `active ${supply.active} + pending push ${supply.pendingPush} at max ${maxConcurrent}`);
  }
  if (supply.active < maxConcurrent) return null;
  return fail("CAPACITY", `active ${supply.active} at max ${maxConcurrent}`);
}

/** A licence is valid on the half-open interval [validFrom, validUntil): it lapses at validUntil. */
function isValidAt(licence: LicenceFact, now: number): boolean {
  return licence.status === "active" && licence.validFrom <= now && now < licence.validUntil;
}

type LicenceLookup = { ok: true; licence: LicenceFact } | { ok: false; failure: Failure };

/**
 * Longest-running first. At module level because it runs per candidate on every offer step: a
 * named closure made per call costs more than the check itself under tsx, which keeps names
 * (esbuild keepNames) with a defineProperty on every closure it creates.
 */
const latestFirst = (a: LicenceFact, b: LicenceFact): number => b.validUntil - a.validUntil;

/**
 * Picks the valid licence of the required kind that runs longest, so the snapshot cites the
 * licence least likely to be questioned later. On failure, explains the licence of that kind
 * that came closest (latest validUntil), because that is the one a supervisor will look for.
 */
function findValidLicence(licences: readonly LicenceFact[], kind: LicenceFact["kind"], now: number): LicenceLookup {
  // Loops rather than filter and sort: this runs per candidate, and each callback would be a closure
  // made per call. The first of equals wins, as a stable sort's first element would.
  let valid: LicenceFact | undefined;
  let closest: LicenceFact | undefined;
  for (const licence of licences) {
    if (licence.kind !== kind) continue;
    if (!closest || latestFirst(licence, closest) < 0) closest = licence;
    if (isValidAt(licence, now) && (!valid || latestFirst(licence, valid) < 0)) valid = licence;
  }
  if (valid) return { ok: true, licence: valid };
  if (!closest) return { ok: false, failure: fail("LICENCE", `no ${kind} licence`) };
  return { ok: false, failure: fail("LICENCE", describeInvalidLicence(closest, now)) };
}

function describeInvalidLicence(licence: LicenceFact, now: number): string {
  if (licence.status !== "active") return `licence ${licence.kind} ${licence.status}`;
  if (now < licence.validFrom) return `licence ${licence.kind} not valid until ${iso(licence.validFrom)}`;
  return `licence ${licence.kind} expired ${iso(licence.validUntil)}`;
}

/** Language codes arrive from different systems in different cases ("EN", "en"), so compare folded. */
function speaksLanguage(advisorLanguages: readonly string[], requested: string | null): boolean {
  if (requested === null) return true;
  const wanted = requested.toLowerCase();
  for (const language of advisorLanguages) if (language.toLowerCase() === wanted) return true;
  return false;
}

/**
 * Groups the advisors that failed eligibility by the rule that excluded them, for the decision
 * record. Every reason is present (possibly empty) so readers need no existence checks; eligible
 * advisors are left out; ids keep their input order.
 */
export function explainExclusions(results: ReadonlyArray<{ advisorId: string; result: EligibilityResult }>): Record<IneligibleReason, string[]> {
  const grouped = Object.fromEntries(INELIGIBLE_REASONS.map((reason) => [reason, [] as string[]])) as Record<IneligibleReason, string[]>;
  for (const { advisorId, result } of results) {
    if (!result.eligible) grouped[result.reason].push(advisorId);
  }
  return grouped;
}

/**
 * The matching domain's vocabulary. Plain data: no I/O, no Redis, no Prisma. Times are epoch ms.
 */
export const LICENCE_KINDS = ["securities_advisory", "fund_sales", "futures", "insurance"] as const;
export type LicenceKind = (typeof LICENCE_KINDS)[number];

export const PRESENCES = ["available", "away", "offline"] as const;
export type Presence = (typeof PRESENCES)[number];

export const CHANNELS = ["chat", "voice", "video"] as const;
export type Channel = (typeof CHANNELS)[number];

export type AdvisorStatus = "active" | "suspended" | "offboarded";
export type LicenceStatus = "active" | "suspended" | "revoked";
export type OfferKind = "push" | "broadcast";
export type Pool = "dedicated" | "branch" | "region" | "national";
export type RequestMode = "dispatch" | "grab" | "auto";
export type RequestStatus = "pending" | "offered" | "assigned" | "completed" | "cancelled" | "expired";
export type OfferOutcome = "accepted" | "declined" | "timed_out" | "withdrawn" | "lost_race";

export interface LicenceFact {
  id: string;
  kind: LicenceKind;
  number: string;
  issuer: string;
  validFrom: number;
  validUntil: number;
  status: LicenceStatus;
}

/** Who an advisor is: changes rarely (directory edits, licence changes, offboarding). */
export interface AdvisorProfile {
  id: string;
  branchId: string;
  region: string;
  status: AdvisorStatus;
  maxConcurrent: number;
  languages: string[];
  /** Highest client risk level (1-5) the advisor may serve. */
  suitabilityMaxRisk: number;
  licences: LicenceFact[];
}

/** What an advisor can take right now: changes on every heartbeat, offer and assignment. */
export interface AdvisorSupply {
  presence: Presence;
  heartbeatAt: number;
  /** Assignments in progress. */
  active: number;
  /** Outstanding push offers, each holding a capacity slot until answered. */
  pendingPush: number;
}

/** Inputs to ranking that accumulate over time. */
export interface AdvisorStats {
  ratingSum: number;
  ratingCount: number;
  /** EWMA of accept latency in ms; null until the first accept. */
  latencyEwmaMs: number | null;
  /** EWMA of accepted (1) versus declined or timed out (0) offers; null until the first answer. */
  acceptEwma: number | null;
  /** When the advisor was last assigned a request; 0 if never. */
  lastAssignedAt: number;
  /** 0..1, fed by incentives (responsiveness score and recent points). */
  incentive: number;
}

/** What matching needs to know about a request. */
export interface RequestFacts {
  id: string;
  clientId: string;
  branchId: string;
  region: string;
  requiredLicence: LicenceKind;
  /** The client's risk level, 1-5. */
  riskLevel: number;
  /** Required language, or null for any. */
  language: string | null;
  priority: number;
  dedicatedAdvisorId: string | null;
  mode: RequestMode;
  createdAt: number;
}

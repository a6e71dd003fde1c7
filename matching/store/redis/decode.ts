/**
 * Decoding what the Redis matching store's scripts answer. Documents are JSON written by the
 * scripts; Node normalises arrays on the way in (a `{}` where an array belongs becomes []) and strips
 * the store's bookkeeping fields (rev, langs, snaps). Also the small helpers the store's steps share.
 */
import type { EligibilitySnapshot } from "../../domain/eligibility.ts";
import type { AdvisorProfile, RequestFacts, RequestStatus } from "../../domain/types.ts";
import type { AdvisorState, LiveRequest, OfferState } from "../port.ts";

export type Json = Record<string, unknown>;
export interface Doc<T> {
  value: T;
  rev: number;
}

/** cjson writes an empty Lua table as `{}`: anything that should be an array and is not becomes []. */
export function asArray<T = unknown>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export const asObject = (value: unknown): Json => (value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {});

export function parse(raw: unknown, what: string): Json {
  if (typeof raw !== "string") throw new Error(`redis matching store: expected a JSON ${what}, got ${typeof raw}`);
  return asObject(JSON.parse(raw));
}

export function decodeProfile(value: unknown): AdvisorProfile {
  const profile = asObject(value);
  return { ...profile, languages: asArray(profile.languages), licences: asArray(profile.licences) } as unknown as AdvisorProfile;
}

export function decodeAdvisor(raw: unknown): Doc<AdvisorState> | null {
  if (raw === null || raw === undefined) return null;
  const { rev, langs: _langs, snaps: _snaps, ...doc } = parse(raw, "advisor");
  const value = {
    ...doc,
    profile: decodeProfile(doc.profile),
    supply: asObject(doc.supply),
    stats: asObject(doc.stats),
    assignments: asArray(doc.assignments),
    pushHolds: asArray(doc.pushHolds),
  } as unknown as AdvisorState;
  return { value, rev: typeof rev === "number" ? rev : 0 };
}

export function decodeOffer(value: unknown): OfferState {
  const offer = asObject(value);
  return { ...offer, outcome: offer.outcome ?? null, respondedAt: offer.respondedAt ?? null } as unknown as OfferState;
}

export const decodeOffers = (raw: unknown): OfferState[] => asArray(JSON.parse(String(raw))).map(decodeOffer);

export function decodeRequest(raw: unknown): Doc<LiveRequest> | null {
  if (raw === null || raw === undefined) return null;
  const { rev, ...doc } = parse(raw, "request");
  const value = {
    ...doc,
    facts: asObject(doc.facts),
    assignedAdvisorId: doc.assignedAdvisorId ?? null,
    excluded: asArray(doc.excluded),
    offers: asArray(doc.offers).map(decodeOffer),
    queueScore: doc.queueScore ?? null,
    rev: typeof rev === "number" ? rev : 0,
  } as unknown as LiveRequest;
  return { value, rev: typeof rev === "number" ? rev : 0 };
}

export function decodeSnapshot(raw: unknown): EligibilitySnapshot {
  const snapshot = parse(raw, "snapshot");
  const language = asObject(snapshot.language);
  return {
    ...snapshot,
    language: { ...language, requested: language.requested ?? null, advisor: asArray(language.advisor) },
  } as unknown as EligibilitySnapshot;
}

export function must<T>(doc: Doc<T> | null, what: string): T {
  if (!doc) throw new Error(`redis matching store: script returned no ${what}`);
  return doc.value;
}

export const CAPACITY_REASONS: ReadonlySet<string> = new Set(["STATUS", "PRESENCE", "CAPACITY", "LICENCE", "SUITABILITY", "LANGUAGE"]);
export const isOpen = (status: RequestStatus): boolean => status === "pending" || status === "offered";
export const isTerminal = (status: RequestStatus): boolean => status === "completed" || status === "cancelled" || status === "expired";
export const clamp01 = (value: number): number => (Number.isNaN(value) ? 0 : Math.min(1, Math.max(0, value)));

/** What eligibility needs besides the stored advisor: the clock and the case-folded language. */
export function eligibilityContext(request: Pick<RequestFacts, "language">, now: number, presenceTtlMs: number): string {
  return JSON.stringify({ now, ttl: presenceTtlMs, wantLang: request.language === null ? null : request.language.toLowerCase() });
}

export const foldedLanguages = (profile: AdvisorProfile): string => JSON.stringify(profile.languages.map((language) => language.toLowerCase()));

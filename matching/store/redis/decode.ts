/**
 * Decoding what the Redis matching store's scripts answer. Documents are JSON written by the
 * scripts; Node normalises arrays on the way in (a `{}` where an array belongs becomes []) and strips
 * the store's bookkeeping fields (rev, langs, snaps, pl, ol). Also the small helpers the store's steps share.
 */
import { AdvisorDocument, AdvisorProfileDocument, OfferDocument, RequestDocument, SnapshotDocument } from "./documents.ts";
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
  return AdvisorProfileDocument.parse(value) as AdvisorProfile;
}

export function decodeAdvisor(raw: unknown): Doc<AdvisorState> | null {
  if (raw === null || raw === undefined) return null;
  const { rev, langs: _langs, snaps: _snaps, pl: _pl, ...doc } = parse(raw, "advisor");
  return { value: AdvisorDocument.parse(doc) as AdvisorState, rev: typeof rev === "number" ? rev : 0 };
}

export function decodeOffer(value: unknown): OfferState {
  return OfferDocument.parse(value) as OfferState;
}

export const decodeOffers = (raw: unknown): OfferState[] => asArray(JSON.parse(String(raw))).map(decodeOffer);

export function decodeRequest(raw: unknown): Doc<LiveRequest> | null {
  if (raw === null || raw === undefined) return null;
  const { rev, ol: _ol, ...doc } = parse(raw, "request");
  const revision = typeof rev === "number" ? rev : 0;
  return { value: { ...(RequestDocument.parse(doc) as Omit<LiveRequest, "rev">), rev: revision }, rev: revision };
}

export function decodeSnapshot(raw: unknown): EligibilitySnapshot {
  return SnapshotDocument.parse(parse(raw, "snapshot")) as EligibilitySnapshot;
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

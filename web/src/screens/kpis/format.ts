/**
 * How the dashboard writes each KPI, deterministically, so a test can format the API's own answer
 * with these functions and compare text for text (tests/browser/kpis.test.ts does):
 *
 * - counts: the integer as is ("12");
 * - rates (0..1): a percentage with one decimal and no space ("66.7%");
 * - durations in ms: seconds with one decimal and a space ("4.2 s");
 * - mean rating: two decimals ("4.50");
 * - points per completed request: one decimal ("16.7");
 * - null (no data to compute from: no requests, no offers, no ratings...): an em dash "—".
 *
 * Rounding is Number#toFixed's. Only a type import, so the browser tests (in Node) can load this file.
 */
import type { Kpis } from "./types.ts";

export const NONE = "—";

export const formatCount = (n: number): string => String(n);
export const formatRate = (r: number | null): string => (r === null ? NONE : `${(r * 100).toFixed(1)}%`);
export const formatMs = (ms: number | null): string => (ms === null ? NONE : `${(ms / 1000).toFixed(1)} s`);
export const formatRating = (x: number | null): string => (x === null ? NONE : x.toFixed(2));
export const formatPoints = (x: number | null): string => (x === null ? NONE : x.toFixed(1));

export interface KpiTile {
  /** The tile's data-testid is `kpi-${id}`. */
  id: string;
  label: string;
  /** What the figure means, shown under it. */
  hint?: string;
  value(k: Kpis): string;
}

/** The dashboard's tiles, in order, each with how its text is made from the range's total. */
export const KPI_TILES: readonly KpiTile[] = [
  { id: "created", label: "Requests created", value: (k) => formatCount(k.created) },
  { id: "assigned", label: "Assigned", value: (k) => formatCount(k.assigned) },
  { id: "completed", label: "Completed", value: (k) => formatCount(k.completed) },
  { id: "answerRate", label: "Answer rate", hint: "assigned of created", value: (k) => formatRate(k.answerRate) },
  { id: "abandoned", label: "Abandoned", hint: "cancelled before an advisor took them", value: (k) => formatCount(k.abandoned) },
  { id: "abandonmentRate", label: "Abandonment rate", value: (k) => formatRate(k.abandonmentRate) },
  { id: "callbacks", label: "Callbacks promised", value: (k) => formatCount(k.callbacks) },
  { id: "timeToFirstOfferMs-p50", label: "Time to first offer, median", value: (k) => formatMs(k.timeToFirstOfferMs.p50) },
  { id: "timeToFirstOfferMs-p90", label: "Time to first offer, 90th percentile", value: (k) => formatMs(k.timeToFirstOfferMs.p90) },
  { id: "timeToAcceptMs-p50", label: "Time to accept, median", value: (k) => formatMs(k.timeToAcceptMs.p50) },
  { id: "timeToAcceptMs-p90", label: "Time to accept, 90th percentile", value: (k) => formatMs(k.timeToAcceptMs.p90) },
  { id: "offers", label: "Offers made", value: (k) => formatCount(k.offers) },
  { id: "declineRate", label: "Decline rate", hint: "declined of offers", value: (k) => formatRate(k.declineRate) },
  { id: "timeoutRate", label: "Timeout rate", hint: "offers left to time out", value: (k) => formatRate(k.timeoutRate) },
  { id: "utilisation", label: "Utilisation", hint: "assigned time over available time of the branch's advisors", value: (k) => formatRate(k.utilisation) },
  { id: "meanRating", label: "Mean rating (of 5)", value: (k) => formatRating(k.meanRating) },
  { id: "pointsPerCompleted", label: "Points per completed request", value: (k) => formatPoints(k.pointsPerCompleted) },
];

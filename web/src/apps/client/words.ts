/**
 * The API's codes in the words a client reads. Every code the API can send has an entry; one added
 * later shows as the code itself rather than as nothing.
 */
import type { Channel, LicenceKind } from "../../../../matching/domain/types.ts";

export const LICENCE_LABELS: Record<LicenceKind, string> = {
  securities_advisory: "Investment advice (shares and bonds)",
  fund_sales: "Funds and pensions",
  futures: "Futures and derivatives",
  insurance: "Insurance",
};

export const CHANNEL_LABELS: Record<Channel, string> = {
  chat: "Chat here",
  voice: "Phone call",
  video: "Video call",
};

/** The funnel, in the order a request goes through it (matching/domain/policy.ts STAGE_POOLS). */
export const STAGE_STEPS: ReadonlyArray<{ stage: string; label: string; now: string }> = [
  { stage: "dedicated", label: "Your dedicated advisor", now: "Asking your dedicated advisor" },
  { stage: "branch", label: "Your branch", now: "Asking advisors at your branch" },
  { stage: "region", label: "Your region", now: "Asking advisors in your region" },
  { stage: "national", label: "Nationwide", now: "Asking advisors nationwide" },
  { stage: "queue", label: "The queue", now: "In the queue for the next free advisor" },
];

export const licenceLabel = (kind: string): string => LICENCE_LABELS[kind as LicenceKind] ?? kind;
export const channelLabel = (channel: string): string => CHANNEL_LABELS[channel as Channel] ?? channel;
export const stageNow = (stage: string): string => STAGE_STEPS.find((s) => s.stage === stage)?.now ?? stage;

const STATUS_WORDS: Record<string, string> = {
  pending: "Looking for an advisor",
  offered: "An advisor is being offered your request",
  assigned: "An advisor is with you",
  completed: "Your conversation has ended",
  cancelled: "You cancelled this request",
  expired: "Nobody could take your request in time",
};

export const statusWords = (status: string): string => STATUS_WORDS[status] ?? status;

/** No-break space: a number and its unit stay on one line. */
const NBSP = "\u00a0";

/** "40 s", "3 min", "1 h 5 min": a wait as a person says it. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s}${NBSP}s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes}${NBSP}min`;
  return `${Math.floor(minutes / 60)}${NBSP}h ${minutes % 60}${NBSP}min`;
}

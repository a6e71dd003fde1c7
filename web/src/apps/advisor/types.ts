/** The API's answers and socket messages as the advisor app reads them (see /openapi.json for the full documents). */
import type { ChatMessage } from "../../api/types.ts";

/** GET /v1/advisors/me/offers and the socket's `offer` message. */
export interface Offer {
  offerId: string;
  requestId: string;
  /** push: made to this advisor alone; broadcast: a grab, the first accept wins. */
  kind: "push" | "broadcast";
  expiresAt: string;
  topic: string;
  requiredLicence: string;
  channel: string;
}

export type Presence = "available" | "away" | "offline";

export interface Me {
  id: string;
  branchId: string;
  name: string;
  languages: string[];
  licences: Array<{ id: string; kind: string; number: string; status: string; validUntil: string }>;
  live: { presence: Presence; active: number; capacity: number; rating: number | null; responsiveness: number | null };
}

export interface Earnings {
  advisorId: string;
  /** points: awarded in the open period; payable: settled points awaiting payout. */
  balance: { points: number; payable: number };
  rank: number | null;
  recent: Array<{ at: string; ruleId: string; points: number; status: string; reason: string | null; eventId: string }>;
}

export interface RequestSummary {
  id: string;
  status: string;
  topic: string;
  requiredLicence: string;
  channel: string;
  assignedAt: string | null;
}

export interface RequestView {
  id: string;
  status: string;
  topic: string;
  requiredLicence: string;
  channel: string;
  createdAt: string;
  assignedAt?: string;
}

/** A message of the chat (the one declaration is in web/src/api/types.ts). */
export type Message = ChatMessage;

export interface DemandAlert {
  branchId: string;
  requiredLicence: string;
  waiting: number;
  surge: boolean;
}

/** Why an offer card no longer takes an answer (the socket's offer.withdrawn reasons, and two of our own). */
export type WithdrawReason = "lost_race" | "timed_out" | "withdrawn" | "gone";

/** What the advisor's socket delivers (app/realtime/notifications.ts, demandAlerts.ts, api/routes/messages.ts). */
export type AdvisorSocketMessage =
  | { type: "hello"; role: string; sub: string }
  | { type: "offer"; offer: Offer; resent?: true }
  | { type: "offer.withdrawn"; offerId: string; requestId: string; reason: WithdrawReason }
  | { type: "request.assigned"; requestId: string }
  | { type: "message"; message: Message }
  | ({ type: "demand.alert" } & DemandAlert)
  | { type: "session.revoked" };

/** Licence kinds as a person reads them. */
export const LICENCE_NAMES: Record<string, string> = {
  securities_advisory: "Securities advisory",
  fund_sales: "Fund sales",
  futures: "Futures",
  insurance: "Insurance",
};

export const licenceName = (kind: string) => LICENCE_NAMES[kind] ?? kind;

/** GET /v1/requests/{id}/record as the console reads it (api/routes/record.ts, DecisionRecord). */
import type { ChatMessage } from "../../api/types.ts";

export interface AdvisorRef {
  id: string;
  name: string;
}

export interface RecordedRequest {
  id: string;
  clientId: string;
  branchId: string;
  topic: string;
  requiredLicence: string;
  channel: string;
  mode: string;
  language: string | null;
  priority: number;
  riskLevel: number;
  region: string;
  status: string;
  stage: string | null;
  stageIndex: number;
  callbackRequested: boolean;
  createdAt: string;
  offeredAt: string | null;
  assignedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  expiredAt: string | null;
}

export interface EligibilitySnapshot {
  checkedAt: string;
  licence: { id: string; kind: string; number: string; issuer: string; validFrom: string; validUntil: string };
  suitability: { advisorMaxRisk: number; clientRisk: number };
  language: { requested: string | null; advisor: string[] };
  presence: string;
  active: number;
  pendingPush: number;
  maxConcurrent: number;
}

export interface RecordedOffer {
  id: string;
  advisor: AdvisorRef;
  kind: "push" | "broadcast";
  stage: string;
  stageIndex: number;
  sentAt: string;
  expiresAt: string;
  outcome: "accepted" | "declined" | "timed_out" | "withdrawn" | "lost_race" | null;
  respondedAt: string | null;
  eligibility: EligibilitySnapshot;
}

/** A message of the recorded conversation, with its hash chain (the one declaration is in web/src/api/types.ts). */
export type RecordMessage = ChatMessage;

export interface DecisionRecord {
  request: RecordedRequest;
  stages: Array<{ stageIndex: number; pool: string; startedAt: string; source: string }>;
  offers: RecordedOffer[];
  decisions: Array<{ at: string; stage: string; offered: string[]; excluded: Record<string, string[]> }>;
  assignment: { advisor: AdvisorRef; assignedAt: string | null; offerId: string | null } | null;
  connections: Array<{ id: string; advisorId: string; openedAt: string; closedAt: string | null; closeReason: string | null }>;
  messages: RecordMessage[];
  rating: { id: string; stars: number; comment: string | null; ratedAt: string } | null;
}

export const REQUEST_STATUSES = ["pending", "offered", "assigned", "completed", "cancelled", "expired"] as const;

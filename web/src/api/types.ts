/** The API's answers as the console reads them (see /openapi.json for the full documents). */
import type { DispatchPolicy } from "../../../matching/domain/policy.ts";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface DevUser {
  id: string;
  role: "client" | "advisor" | "manager" | "compliance" | "admin";
  branchId: string | null;
  name: string;
}

export interface Branch {
  id: string;
  name: string;
  region: string;
  timezone: string;
}

export interface WaitingRequest {
  requestId: string;
  clientId: string;
  requiredLicence: string;
  priority: number;
  createdAt: string;
  stage: string;
  waitingSeconds: number;
}

export interface BranchQueue {
  waiting: WaitingRequest[];
  availableAdvisors: Array<{ advisorId: string; name: string; active: number; maxConcurrent: number }>;
}

export interface AdvisorLive {
  presence: string;
  active: number;
  capacity: number;
  rating: number | null;
  responsiveness: number | null;
}

export interface BranchAdvisor {
  id: string;
  branchId: string;
  name: string;
  status: string;
  maxConcurrent: number;
  live: AdvisorLive;
}

export interface RequestSummary {
  id: string;
  clientId: string;
  status: string;
  stage: string | null;
  topic: string;
  requiredLicence: string;
  assignedAdvisorId: string | null;
  createdAt: string;
  assignedAt: string | null;
}

export interface BranchPolicy {
  branchId: string;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
  policy: DispatchPolicy;
}

/**
 * One message of a request's recorded conversation, as GET and POST /v1/requests/{id}/messages, the
 * socket's `message` and the decision record all send it (compliance/messages/store.ts, MessageView).
 * prevHash and hash chain each message to the one before; the console's record verifies the chain.
 */
export interface ChatMessage {
  id: string;
  requestId: string;
  senderId: string;
  senderRole: string;
  body: string;
  sentAt: string;
  seq: number;
  prevHash: string;
  hash: string;
}

/** The live branch feed on /v1/ws. */
export type BranchFeedMessage =
  | { type: "branch.activity"; branchId: string; event: string; requestId: string; at: string }
  | {
      type: "branch.snapshot";
      branchId: string;
      queueDepth: number;
      advisors: { available: number; busy: number; away: number; offline: number };
      at: string;
    };

/** What the client app reads from the API (see /openapi.json: Request; a chat Message is ChatMessage in web/src/api/types.ts). */

export type RequestStatus = "pending" | "offered" | "assigned" | "completed" | "cancelled" | "expired";

export interface AdvisorRating {
  /** Mean stars, or null while the advisor has no ratings. */
  average: number | null;
  count: number;
}

export interface RequestView {
  id: string;
  status: RequestStatus;
  mode: string;
  stage: string;
  topic: string;
  requiredLicence: string;
  channel: string;
  createdAt: string;
  assignedAt?: string;
  callbackRequested: boolean;
  advisor?: {
    id: string;
    name: string;
    licence: { kind: string; number: string; validUntil: string };
    /** Optional: servers before the rating was added to the view do not send it. */
    rating?: AdvisorRating;
  };
  timeline: Array<{ at: string; event: string }>;
}

export interface WaitEstimate {
  requestId: string;
  status: string;
  stage: string;
  sampleSize: number;
  /** Null when there is too little recent history to say. */
  medianSeconds: number | null;
  p80Seconds: number | null;
  basis: string;
}

/** The statuses after which nothing more happens to a request. */
export const ENDED: ReadonlySet<string> = new Set(["completed", "cancelled", "expired"]);

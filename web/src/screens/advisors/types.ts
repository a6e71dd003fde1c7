/** GET /v1/branches/{id}/advisors as the directory reads it (api/listViews.ts, ListedAdvisor). */
import type { AdvisorLive } from "../../api/types.ts";

export interface LicenceSummary {
  id: string;
  kind: string;
  number: string;
  issuer: string;
  validFrom: string;
  validUntil: string;
  /** active, or one no advisor may use: expired (past validUntil), suspended, revoked. */
  status: string;
}

export interface ListedAdvisor {
  id: string;
  branchId: string;
  name: string;
  status: string;
  maxConcurrent: number;
  languages: string[];
  suitabilityMaxRisk: number;
  licences: LicenceSummary[];
  live: AdvisorLive;
}

export const PRESENCES = ["available", "away", "offline"] as const;

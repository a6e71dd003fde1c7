/** GET /v1/branches/{id}/staffing as the staffing screen reads it (what each figure means: reporting/staffing.ts). */

export interface SurgeSuggestion {
  shortfall: number;
  multiplier: number;
  /** A rule for the branch's incentive rule set (incentives/rules/schema.ts). */
  rule: { id: string; on: string; when?: Record<string, unknown>; award: { multiplier?: number; points?: number } };
  reasoning: string;
}

export interface StaffingHour {
  start: string;
  localHour: number;
  observedSeconds: number;
  arrivals: number;
  handledInHour: number;
  handleSeconds: number | null;
  handleBasis: "hour" | "branch-28-days" | "none";
  erlangs: number | null;
  advisorsNeeded: number | null;
  advisorsAvailable: { mean: number; max: number };
  expectedServiceLevel: number | null;
  underTarget: boolean;
  surge: SurgeSuggestion | null;
}

export interface BranchStaffing {
  branchId: string;
  timezone: string;
  date: string;
  target: { percent: number; seconds: number };
  model: string;
  basis: string;
  branchHandleSeconds: number | null;
  hours: StaffingHour[];
  underTargetHours: number;
}

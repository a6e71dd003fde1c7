/** GET /v1/branches/{id}/kpis as the dashboard reads it (what each figure means: reporting/kpis.ts). */

export type KpiBucket = "hour" | "day";

export interface Percentiles {
  p50: number | null;
  p90: number | null;
}

export interface Kpis {
  created: number;
  assigned: number;
  completed: number;
  abandoned: number;
  callbacks: number;
  answerRate: number | null;
  abandonmentRate: number | null;
  timeToFirstOfferMs: Percentiles;
  timeToAcceptMs: Percentiles;
  answeredByStage: { dedicated: number; branch: number; region: number; national: number; queue: number };
  offers: number;
  declineRate: number | null;
  timeoutRate: number | null;
  utilisation: number | null;
  meanRating: number | null;
  pointsPerCompleted: number | null;
}

export interface BranchKpis {
  branchId: string;
  timezone: string;
  from: string;
  to: string;
  bucket: KpiBucket;
  buckets: Array<Kpis & { start: string }>;
  total: Kpis;
}

/**
 * The incentive domain's JSON columns, parsed with zod when read back from PostgreSQL: a fold state,
 * a settlement report, an event from the event log. A row that no longer matches (a bug, a manual
 * edit, an older shape) fails loudly here, naming the field, instead of flowing on as a cast.
 */
import { z } from "zod";
import { LICENCE_KINDS } from "../matching/domain/types.ts";
import type { EvaluableEvent, IncentiveState } from "./evaluate.ts";
import type { SettlementReport } from "./settlement.ts";

const Counts = z.record(z.string(), z.number().int());

export const IncentiveStateSchema = z.object({
  streaks: Counts,
  awards: z.record(z.string(), z.record(z.string(), z.object({ days: Counts, weeks: Counts }))),
  budget: z.object({ period: z.string().nullable(), used: z.number().int() }),
}) satisfies z.ZodType<IncentiveState>;

export const SettlementReportSchema = z.object({
  branchId: z.string(),
  period: z.object({ key: z.string(), start: z.string(), end: z.string() }),
  advisors: z.array(
    z.object({
      advisorId: z.string(),
      points: z.number().int(),
      awards: z.number().int(),
      byRule: z.record(z.string(), z.number().int()),
      shortfall: z.number().int().optional(),
      note: z.string().optional(),
    }),
  ),
  totals: z.object({ points: z.number().int(), awards: z.number().int(), advisors: z.number().int() }),
}) satisfies z.ZodType<SettlementReport>;

/**
 * An event as the evaluator reads it: the envelope every domain event has, and the facts an
 * accept adds. The rest of each event type's fields pass through as written (the event log is
 * written by the engine from typed events, in the same transaction as its state change).
 */
const EvaluableEventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    at: z.number(),
    queueDepth: z.number().int().optional(),
    requiredLicence: z.enum(LICENCE_KINDS).optional(),
    surge: z.boolean().optional(),
  })
  .loose();

export const parseIncentiveState = (value: unknown): IncentiveState => IncentiveStateSchema.parse(value);
export const parseSettlementReport = (value: unknown): SettlementReport => SettlementReportSchema.parse(value);
export const parseEvaluableEvent = (value: unknown): EvaluableEvent => EvaluableEventSchema.parse(value) as unknown as EvaluableEvent;

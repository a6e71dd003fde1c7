/**
 * A simulated day, as a scenario file describes it: the regions, branches and advisors (licences,
 * suitability, languages, capacity, shifts), how advisors behave, the demand, and the policies to
 * compare. Validated with zod; `parseScenario` answers every problem with its path.
 *
 * Hours are hours of the simulated day in UTC (0-23), as are shift times; a branch's timezone only
 * says how its KPIs are bucketed, as for GET /v1/branches/:id/kpis.
 */
import { z } from "zod";
import { RuleSetSchema } from "../incentives/rules/schema.ts";
import { DispatchPolicySchema } from "../matching/domain/policy.ts";
import { LICENCE_KINDS } from "../matching/domain/types.ts";

const Probability = z.number().min(0).max(1);
const Hour = z.number().min(0).max(24);
/** 24 numbers, one per hour of the day. */
const PerHour = (item: z.ZodNumber) => z.array(item).length(24, "give 24 values, one per hour 0-23");

/** A duration in seconds: log-normal around a median (most human timings are skewed right), or fixed. */
export const DurationSchema = z.union([
  z.object({ kind: z.literal("lognormal"), medianSeconds: z.number().positive(), sigma: z.number().min(0).max(3) }).strict(),
  z.object({ kind: z.literal("fixed"), seconds: z.number().min(0) }).strict(),
]);

/** A share of each value; the weights need not add up to 1 (they are normalised). */
const Mix = <T extends z.ZodType<string | number>>(value: T) =>
  z.array(z.object({ value, weight: z.number().positive() }).strict()).min(1, "give at least one value with a weight");

export const BehaviourSchema = z
  .object({
    /** Chance an advisor accepts an offer, before the load and hour factors. */
    acceptProbability: Probability,
    /** Multiplier on it by the advisor's assignments in progress: index 0 = none, the last for that many or more. */
    acceptByLoad: z.array(z.number().min(0).max(10)).min(1).default([1]),
    /** Multiplier on it by hour of the day (e.g. lower just before lunch). */
    acceptByHour: PerHour(z.number().min(0).max(10)).optional(),
    /** Of the offers an advisor does not accept, the share they decline; the rest they let time out. */
    declineShare: Probability.default(0.7),
    /** From an offer reaching the phone to the answer. */
    thinkTime: DurationSchema,
    /** From accepting to completing the conversation. */
    handleTime: DurationSchema,
    /** Chance an advisor does not turn up for their shift at all. */
    noShowRate: Probability.default(0),
    /**
     * The stated response to incentives, applied when a policy runs with incentives on: the accept
     * probability is multiplied by (1 + acceptUplift) (at most 1) and think time by (1 - thinkTimeCut).
     * The effect incentives show in a comparison comes from these two numbers.
     */
    incentiveResponse: z.object({ acceptUplift: z.number().min(0).max(5), thinkTimeCut: z.number().min(0).max(0.95) }).strict(),
  })
  .strict();

export const ShiftSchema = z
  .object({ start: Hour, end: Hour })
  .strict()
  .refine((s) => s.end > s.start, { message: "a shift ends after it starts (use two shifts to cross midnight)" });

export const AdvisorGroupSchema = z
  .object({
    /** How many advisors of this kind the branch has. */
    count: z.number().int().min(1).max(10_000),
    licences: z.array(z.enum(LICENCE_KINDS)).min(1),
    /** Highest client risk level (1-5) they may serve. */
    suitabilityMaxRisk: z.number().int().min(1).max(5).default(5),
    languages: z.array(z.string().min(2).max(8)).min(1).default(["en"]),
    maxConcurrent: z.number().int().min(1).max(20).default(2),
    shifts: z.array(ShiftSchema).min(1),
    /** This group's behaviour in place of the scenario's. */
    behaviour: BehaviourSchema.partial().optional(),
  })
  .strict();

export const DemandSchema = z
  .object({
    /** Mean arrivals per hour (a Poisson process within each hour). */
    perHour: PerHour(z.number().min(0).max(100_000)),
    licences: Mix(z.enum(LICENCE_KINDS)),
    riskLevels: Mix(z.number().int().min(1).max(5)).default([{ value: 2, weight: 1 }]),
    languages: Mix(z.string().min(2).max(8)).default([{ value: "en", weight: 1 }]),
    /** How long a client waits for an advisor before cancelling. */
    patience: DurationSchema,
    /** Share of clients with a dedicated advisor (one of the branch's, drawn at random). */
    dedicatedShare: Probability.default(0),
  })
  .strict();

export const BranchSchema = z
  .object({
    name: z.string().min(1).max(60),
    /** IANA zone the KPIs are bucketed in (default UTC). */
    timezone: z.string().min(1).default("UTC"),
    advisors: z.array(AdvisorGroupSchema).min(1),
    demand: DemandSchema,
  })
  .strict();

export const RegionSchema = z.object({ name: z.string().min(1).max(40), branches: z.array(BranchSchema).min(1) }).strict();

export const POLICY_VARIANTS = ["default", "pure-grab", "pure-dispatch", "branch-only", "default-no-incentives", "branch-dispatch"] as const;
export type PolicyVariant = (typeof POLICY_VARIANTS)[number];

export const ScenarioSchema = z
  .object({
    name: z.string().min(1).max(60),
    description: z.string().max(2000).default(""),
    /** The simulated day (UTC), YYYY-MM-DD; in the past, so every open span ends at the day's end. */
    date: z.iso.date().default("2026-01-05"),
    behaviour: BehaviourSchema,
    regions: z.array(RegionSchema).min(1),
    /** The incentive rules every branch runs with incentives on (default: simulation/incentives.ts DEFAULT_SIMULATION_RULES). */
    incentiveRules: RuleSetSchema.optional(),
    /**
     * Runs the production incentive consumer during the day (policies with incentives on): points
     * awarded (the KPIs' pointsPerCompleted) and fed back into ranking. Off by default: each award is
     * a ledger transaction, which multiplies a large day's running time (about 10 ms an award on
     * PGlite). Incentives' effect on advisors comes from behaviour.incentiveResponse either way.
     */
    evaluateIncentives: z.boolean().default(false),
    /** Which policies to compare (default: all of them). A policy may be given in full as well. */
    policies: z
      .array(
        z.union([
          z.enum(POLICY_VARIANTS),
          z.object({ name: z.string().min(1).max(40), policy: DispatchPolicySchema, incentives: z.boolean().default(true) }).strict(),
        ]),
      )
      .min(1)
      .default([...POLICY_VARIANTS]),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    const names = scenario.regions.flatMap((r) => r.branches.map((b) => b.name));
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i) ctx.addIssue({ code: "custom", path: ["regions"], message: `branch name "${name}" is used twice` });
    });
  });

export type Scenario = z.infer<typeof ScenarioSchema>;
export type Behaviour = z.infer<typeof BehaviourSchema>;
export type Duration = z.infer<typeof DurationSchema>;
export type BranchSpec = z.infer<typeof BranchSchema>;
export type AdvisorGroup = z.infer<typeof AdvisorGroupSchema>;

export type ParsedScenario = { ok: true; scenario: Scenario } | { ok: false; problems: string[] };

/** The scenario, or every problem found, each as `path: message` (e.g. `regions.0.branches.1.demand.perHour: give 24 values`). */
export function parseScenario(input: unknown): ParsedScenario {
  const parsed = ScenarioSchema.safeParse(input);
  if (parsed.success) return { ok: true, scenario: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join(".") || "(scenario)"}: ${issue.message}`) };
}

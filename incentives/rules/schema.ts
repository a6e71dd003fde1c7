/**
 * A branch's incentive rule set: a JSON document validated with this schema on every read and write.
 * Each rule earns on one engine event type; points rules give a base award, multiplier rules scale
 * the awards of the same event type. Pure: no I/O.
 *
 * `parseRuleSet` is the entry point for documents from outside (managers' edits, stored rows): its
 * errors name the offending rule and field, so an editor can point at them.
 *
 * The schemas carry zod's own metadata (`.meta({ id })`, no HTTP library here): the API documents
 * its rule set bodies with these very schemas, and each id becomes a component of /openapi.json.
 * Refinements are checks on the schema they refine, so the documented shape is the validated one;
 * the cross-field rules a JSON schema cannot say are in the descriptions.
 */
import { STAGE_POOLS } from "../../matching/domain/policy.ts";
import { z } from "zod";
import { LICENCE_KINDS } from "../../matching/domain/types.ts";

/** The engine events a rule can earn on. */
export const EARNING_EVENT_TYPES = ["offer.accepted", "request.completed", "request.rated"] as const;
export type EarningEventType = (typeof EARNING_EVENT_TYPES)[number];

/** Stages an accept can happen in (`offer.accepted.stage`). */

/** 1–64 lower-case letters, digits, '_' and '-'. */
export const RULE_ID_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** Local hours [from, to), in the branch's timezone. `from > to` wraps midnight: {22, 6} is 22:00–05:59. */
export const HourRangeSchema = z
  .object({
    from: z.number().int().min(0).max(23),
    to: z.number().int().min(0).max(24),
  })
  .strict()
  .meta({
    id: "IncentiveHourRange",
    description: "Local hours [from, to) in the branch's timezone; from > to wraps midnight ({22, 6} is 22:00-05:59); from = to is refused.",
  });

/** Every condition is optional; all present ones must hold. */
export const ConditionsSchema = z
  .object({
    /** offer.accepted only: the accept came within this many seconds (`latencyMs / 1000 <= x`). */
    responseSecondsAtMost: z.number().min(0).optional(),
    /** request.rated only: the rating has at least this many stars. */
    starsAtLeast: z.number().int().min(1).max(5).optional(),
    /** The event's local hour (branch timezone) is in [from, to). */
    localHourIn: HourRangeSchema.optional(),
    /** The event's local ISO weekday (Monday = 1 … Sunday = 7) is one of these. */
    weekdayIn: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
    /** offer.accepted only: the advisor's current run of consecutive accepts, this one included. */
    streakAtLeast: z.number().int().min(1).optional(),
    /** The event's `queueDepth` (absent counts as 0) is at least this. */
    queueDepthAtLeast: z.number().int().min(0).optional(),
    /** The event's `requiredLicence` is one of these (absent never matches). */
    licenceKindIn: z.array(z.enum(LICENCE_KINDS)).min(1).optional(),
    /** offer.accepted only: the funnel stage the offer was accepted in. */
    stage: z.enum(STAGE_POOLS).optional(),
  })
  .strict()
  .meta({
    id: "IncentiveRuleConditions",
    description:
      "All present conditions must hold. responseSecondsAtMost, streakAtLeast and stage apply to offer.accepted rules only, starsAtLeast to request.rated rules only.",
  });

export type ConditionName = keyof z.infer<typeof ConditionsSchema>;

const ALL_EARNING = EARNING_EVENT_TYPES;
/** Which event types each condition makes sense for; anything else is a validation error. */
export const CONDITION_APPLIES_TO: Readonly<Record<ConditionName, readonly EarningEventType[]>> = Object.freeze({
  responseSecondsAtMost: ["offer.accepted"],
  starsAtLeast: ["request.rated"],
  localHourIn: ALL_EARNING,
  weekdayIn: ALL_EARNING,
  streakAtLeast: ["offer.accepted"],
  queueDepthAtLeast: ALL_EARNING,
  licenceKindIn: ALL_EARNING,
  stage: ["offer.accepted"],
});

export const PointsAwardSchema = z
  .object({ points: z.number().int().min(1).max(100_000) })
  .strict()
  .meta({ id: "IncentivePointsAward", description: "A points rule: awards this many points for each matching event." });
export const MultiplierAwardSchema = z
  .object({ multiplier: z.number().gt(0).max(10) })
  .strict()
  .meta({ id: "IncentiveMultiplierAward", description: "A multiplier rule: scales the points awarded for the same event by the points rules." });
export const AwardSchema = z.union([PointsAwardSchema, MultiplierAwardSchema]);

export const CapsSchema = z
  .object({
    /** At most this many awards of the rule per advisor per local day. */
    perAdvisorPerDay: z.number().int().min(1).optional(),
    /** At most this many awards of the rule per advisor per ISO week (branch timezone). */
    perAdvisorPerWeek: z.number().int().min(1).optional(),
  })
  .strict()
  .meta({ id: "IncentiveRuleCaps", description: "Limits on a points rule's awards per advisor (multiplier rules take no caps)." });

export const RuleSchema = z
  .object({
    id: z.string().regex(RULE_ID_PATTERN, "1 to 64 lower-case letters, digits, '_' and '-'"),
    on: z.enum(EARNING_EVENT_TYPES),
    when: ConditionsSchema.optional(),
    award: AwardSchema,
    caps: CapsSchema.optional(),
  })
  .strict()
  .meta({
    id: "IncentiveRule",
    description:
      "One rule: earns on one event type; a points award is a base award, a multiplier award scales the same event's points awards. Rule ids are unique in a set.",
  });

export const BudgetSchema = z
  .object({
    /** Points the branch may award per period; awards beyond it are skipped. */
    points: z.number().int().min(0),
    period: z.literal("week"),
  })
  .strict()
  .meta({ id: "IncentiveBudget", description: "Points the branch may award per period; awards beyond it are skipped." });

export const RuleSetSchema = z
  .object({
    rules: z.array(RuleSchema).min(1).max(100),
    budget: BudgetSchema,
  })
  .strict()
  .superRefine((ruleSet, ctx) => {
    for (const issue of semanticIssues(ruleSet)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  })
  .meta({ id: "IncentiveRuleSet", description: "A branch's incentive rules (1-100) and its budget." });

export type Conditions = z.infer<typeof ConditionsSchema>;
export type HourRange = z.infer<typeof HourRangeSchema>;
export type Rule = z.infer<typeof RuleSchema>;
export type RuleSet = z.infer<typeof RuleSetSchema>;

export interface RuleSetError {
  /** The rule's id, `#<index>` when the rule's id itself is missing or invalid, null for the document. */
  ruleId: string | null;
  /** Dotted path inside the rule (e.g. "when.localHourIn.from"), or inside the document when ruleId is null; "" for the whole thing. */
  field: string;
  message: string;
}

export type ParseRuleSetResult = { ok: true; ruleSet: RuleSet } | { ok: false; errors: RuleSetError[] };

type Path = Array<string | number>;
interface RawIssue {
  path: Path;
  message: string;
}

/**
 * Validates a rule set document. On failure, every error names its rule (by id, or `#<index>` when
 * the id itself is bad) and its field; shape errors and cross-field errors (a condition that does not
 * fit the rule's event, duplicate ids, …) are reported together.
 */
export function parseRuleSet(json: unknown): ParseRuleSetResult {
  const parsed = RuleSetSchema.safeParse(json);
  if (parsed.success) return { ok: true, ruleSet: parsed.data };

  const raw: RawIssue[] = [];
  for (const issue of parsed.error.issues) raw.push(...flattenIssue(issue, json));
  // Cross-field checks also run on the raw document, so they are reported alongside shape errors
  // (zod skips refinements while the shape is invalid).
  raw.push(...semanticIssues(json));

  const errors: RuleSetError[] = [];
  const seen = new Set<string>();
  for (const issue of raw) {
    const error = toRuleSetError(issue, json);
    const key = `${error.ruleId}\u0000${error.field}\u0000${error.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(error);
  }
  return { ok: false, errors };
}

/** Formats errors one per line, e.g. for logs and CLI output: `rule fast-accept, when.starsAtLeast: …`. */
export function formatRuleSetErrors(errors: readonly RuleSetError[]): string {
  return errors.map((e) => `${e.ruleId === null ? "rule set" : `rule ${e.ruleId}`}${e.field ? `, ${e.field}` : ""}: ${e.message}`).join("\n");
}

/** One zod issue as precise issues: unknown keys each named, unions resolved to the branch meant. */
function flattenIssue(issue: z.core.$ZodIssue, root: unknown): RawIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({ path: [...path, key], message: "unknown field" }));
  }
  if (issue.code === "invalid_union" && path.length === 3 && path[0] === "rules" && path[2] === "award") {
    return awardIssues(valueAt(root, path)).map((i) => ({ path: [...path, ...i.path], message: i.message }));
  }
  return [{ path, message: issue.message }];
}

/** An award is either `{points}` or `{multiplier}`: validate it against the one it names. */
function awardIssues(award: unknown): RawIssue[] {
  if (!isRecord(award)) return [{ path: [], message: "expected an object: {points} or {multiplier}" }];
  const hasPoints = Object.hasOwn(award, "points");
  const hasMultiplier = Object.hasOwn(award, "multiplier");
  if (hasPoints && hasMultiplier) return [{ path: [], message: "either points or multiplier, not both" }];
  if (!hasPoints && !hasMultiplier) return [{ path: [], message: "needs points or multiplier" }];
  const result = (hasPoints ? PointsAwardSchema : MultiplierAwardSchema).safeParse(award);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => flattenIssue(issue, award));
}

/**
 * Checks that span fields: unique rule ids, conditions that fit the rule's event, caps only on points
 * rules, non-empty hour ranges. Written against unknown input so it can run on an invalid document;
 * a check is skipped while the fields it needs are themselves invalid (their own errors say why).
 */
function semanticIssues(doc: unknown): RawIssue[] {
  if (!isRecord(doc) || !Array.isArray(doc.rules)) return [];
  const issues: RawIssue[] = [];
  const firstIndexById = new Map<string, number>();

  doc.rules.forEach((rule: unknown, index: number) => {
    if (!isRecord(rule)) return;
    const at = (...rest: Path): Path => ["rules", index, ...rest];

    if (typeof rule.id === "string") {
      const first = firstIndexById.get(rule.id);
      if (first === undefined) firstIndexById.set(rule.id, index);
      else issues.push({ path: at("id"), message: `duplicate rule id "${rule.id}" (rules ${first} and ${index})` });
    }

    const on = EARNING_EVENT_TYPES.find((t) => t === rule.on);
    if (on !== undefined && isRecord(rule.when)) {
      for (const name of Object.keys(CONDITION_APPLIES_TO) as ConditionName[]) {
        if (!Object.hasOwn(rule.when, name)) continue;
        const allowed = CONDITION_APPLIES_TO[name];
        if (!allowed.includes(on)) issues.push({ path: at("when", name), message: `does not apply to ${on} rules (only ${allowed.join(", ")})` });
      }
    }
    if (isRecord(rule.when) && isRecord(rule.when.localHourIn)) {
      const { from, to } = rule.when.localHourIn;
      if (typeof from === "number" && from === to) {
        issues.push({ path: at("when", "localHourIn"), message: "from and to are equal: the range is empty (use {from: 0, to: 24} for all day)" });
      }
    }
    if (rule.caps !== undefined && isRecord(rule.award) && Object.hasOwn(rule.award, "multiplier") && !Object.hasOwn(rule.award, "points")) {
      issues.push({ path: at("caps"), message: "caps apply to points rules only; a multiplier rule scales awards capped by their own rules" });
    }
  });
  return issues;
}

function toRuleSetError(issue: RawIssue, root: unknown): RuleSetError {
  const { path, message } = issue;
  if (path[0] === "rules" && typeof path[1] === "number") {
    const index = path[1];
    const rule = valueAt(root, ["rules", index]);
    const id = isRecord(rule) ? rule.id : undefined;
    const validId = typeof id === "string" && RULE_ID_PATTERN.test(id);
    return { ruleId: validId ? id : `#${index}`, field: path.slice(2).join("."), message };
  }
  return { ruleId: null, field: path.join("."), message };
}

function valueAt(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) {
    if (Array.isArray(value) && typeof key === "number") value = value[key];
    else if (isRecord(value) && typeof key === "string" && Object.hasOwn(value, key)) value = value[key];
    else return undefined;
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

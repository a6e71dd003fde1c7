/**
 * The rule set form's state: each rule with its numbers held as the text in their inputs, so a half
 * typed value stays as typed. Validation builds the document and runs the API's own schema
 * (incentives/rules/schema.ts), so the form refuses exactly what the API would refuse, and names
 * the field. Errors are keyed by the document's dotted path ("rules.0.award", "budget.points").
 */
import {
  CONDITION_APPLIES_TO,
  type ConditionName,
  type EarningEventType,
  MultiplierAwardSchema,
  PointsAwardSchema,
  type Rule,
  type RuleSet,
  type RuleSetError,
  RuleSetSchema,
} from "../../../../incentives/rules/schema.ts";

export type FieldErrors = Record<string, string>;
export type AwardKind = "points" | "multiplier";

/** The conditions that are a single number, in the order the form shows them. */
export const NUMBER_CONDITIONS = ["responseSecondsAtMost", "starsAtLeast", "streakAtLeast", "queueDepthAtLeast"] as const;
type NumberCondition = (typeof NUMBER_CONDITIONS)[number];

export interface ConditionsDraft extends Record<NumberCondition, string> {
  hourFrom: string;
  hourTo: string;
  weekdayIn: number[];
  licenceKindIn: string[];
  /** "" for any stage. */
  stage: string;
}

export interface RuleDraft {
  /** React's key: rules have no identity while their id is being typed. */
  key: number;
  id: string;
  on: EarningEventType;
  awardKind: AwardKind;
  award: string;
  when: ConditionsDraft;
  perDay: string;
  perWeek: string;
}

export interface RuleSetDraft {
  rules: RuleDraft[];
  budget: string;
}

/** Where a manager starts when the branch has no active rule set yet. */
export const STARTER_RULE_SET: RuleSet = {
  rules: [{ id: "completed", on: "request.completed", award: { points: 10 } }],
  budget: { points: 1000, period: "week" },
};

let nextKey = 1;
const text = (n: number | undefined) => (n === undefined ? "" : String(n));

export const appliesTo = (condition: ConditionName, on: EarningEventType) => CONDITION_APPLIES_TO[condition].includes(on);

function ruleToDraft(rule: Rule): RuleDraft {
  const when = rule.when ?? {};
  const isPoints = "points" in rule.award;
  return {
    key: nextKey++,
    id: rule.id,
    on: rule.on,
    awardKind: isPoints ? "points" : "multiplier",
    award: "points" in rule.award ? String(rule.award.points) : String(rule.award.multiplier),
    when: {
      responseSecondsAtMost: text(when.responseSecondsAtMost),
      starsAtLeast: text(when.starsAtLeast),
      streakAtLeast: text(when.streakAtLeast),
      queueDepthAtLeast: text(when.queueDepthAtLeast),
      hourFrom: text(when.localHourIn?.from),
      hourTo: text(when.localHourIn?.to),
      weekdayIn: [...(when.weekdayIn ?? [])],
      licenceKindIn: [...(when.licenceKindIn ?? [])],
      stage: when.stage ?? "",
    },
    perDay: text(rule.caps?.perAdvisorPerDay),
    perWeek: text(rule.caps?.perAdvisorPerWeek),
  };
}

export const toDraft = (ruleSet: RuleSet): RuleSetDraft => ({ rules: ruleSet.rules.map(ruleToDraft), budget: String(ruleSet.budget.points) });

/** A new rule with an id not yet taken in the set. */
export function newRule(taken: readonly RuleDraft[]): RuleDraft {
  let n = taken.length + 1;
  while (taken.some((r) => r.id === `rule-${n}`)) n++;
  return ruleToDraft({ id: `rule-${n}`, on: "request.completed", award: { points: 10 } });
}

/** Reads the numbers of the form; a text that is not a number is an error at its path. */
class NumberReader {
  readonly errors: FieldErrors = {};
  /** The number typed at `path`; undefined when the field is empty. */
  optional(value: string, path: string): number | undefined {
    if (value.trim() === "") return undefined;
    const n = Number(value);
    if (Number.isNaN(n)) this.errors[path] = "Enter a number";
    return n;
  }
  required(value: string, path: string): number {
    const n = this.optional(value, path);
    if (n === undefined) this.errors[path] = "Enter a number";
    return n ?? Number.NaN;
  }
}

function conditionsOf(rule: RuleDraft, at: string, read: NumberReader): Record<string, unknown> | undefined {
  const when: Record<string, unknown> = {};
  const { when: w, on } = rule;
  for (const name of NUMBER_CONDITIONS) {
    if (appliesTo(name, on)) when[name] = read.optional(w[name], `${at}.when.${name}`);
  }
  if (w.hourFrom.trim() !== "" || w.hourTo.trim() !== "") {
    when.localHourIn = { from: read.required(w.hourFrom, `${at}.when.localHourIn.from`), to: read.required(w.hourTo, `${at}.when.localHourIn.to`) };
  }
  if (w.weekdayIn.length) when.weekdayIn = [...w.weekdayIn].sort();
  if (w.licenceKindIn.length) when.licenceKindIn = w.licenceKindIn;
  if (w.stage && appliesTo("stage", on)) when.stage = w.stage;
  const present = Object.entries(when).filter(([, v]) => v !== undefined);
  return present.length ? Object.fromEntries(present) : undefined;
}

function ruleOf(rule: RuleDraft, index: number, read: NumberReader): Record<string, unknown> {
  const at = `rules.${index}`;
  const doc: Record<string, unknown> = { id: rule.id.trim(), on: rule.on, award: { [rule.awardKind]: read.required(rule.award, `${at}.award`) } };
  const when = conditionsOf(rule, at, read);
  if (when) doc.when = when;
  if (rule.awardKind === "points") {
    const caps = {
      perAdvisorPerDay: read.optional(rule.perDay, `${at}.caps.perAdvisorPerDay`),
      perAdvisorPerWeek: read.optional(rule.perWeek, `${at}.caps.perAdvisorPerWeek`),
    };
    const present = Object.entries(caps).filter(([, v]) => v !== undefined);
    if (present.length) doc.caps = Object.fromEntries(present);
  }
  return doc;
}

/** The form field an error belongs to: awards and checkbox groups are one field each. */
export function fieldOf(path: string): string {
  return path.match(/^rules\.\d+\.(award|when\.weekdayIn|when\.licenceKindIn)/)?.[0] ?? path;
}

function awardMessage(draft: RuleSetDraft, path: string): string | undefined {
  const index = Number(path.split(".")[1]);
  const rule = draft.rules[index];
  if (!rule) return undefined;
  const schema = rule.awardKind === "points" ? PointsAwardSchema : MultiplierAwardSchema;
  return schema.safeParse({ [rule.awardKind]: Number(rule.award) }).error?.issues[0]?.message;
}

export type Validated = { ok: true; ruleSet: RuleSet } | { ok: false; errors: FieldErrors };

export function validate(draft: RuleSetDraft): Validated {
  const read = new NumberReader();
  const doc = { rules: draft.rules.map((rule, i) => ruleOf(rule, i, read)), budget: { points: read.required(draft.budget, "budget.points"), period: "week" } };
  const parsed = RuleSetSchema.safeParse(doc);
  if (parsed.success && Object.keys(read.errors).length === 0) return { ok: true, ruleSet: parsed.data };
  const errors: FieldErrors = { ...read.errors };
  for (const issue of parsed.error?.issues ?? []) {
    const field = fieldOf(issue.path.join("."));
    if (errors[field]) continue;
    errors[field] = (field.endsWith(".award") && awardMessage(draft, field)) || issue.message;
  }
  return { ok: false, errors };
}

/** The API's refusal (parseRuleSet's errors: rule id or #index, field) as the form's field errors. */
export function serverErrors(draft: RuleSetDraft, details: unknown): FieldErrors {
  if (!Array.isArray(details)) return {};
  const errors: FieldErrors = {};
  for (const d of details as RuleSetError[]) {
    if (typeof d?.message !== "string") continue;
    let path = d.field ?? "";
    if (d.ruleId !== null && d.ruleId !== undefined) {
      const index = d.ruleId.startsWith("#") ? Number(d.ruleId.slice(1)) : draft.rules.findIndex((r) => r.id.trim() === d.ruleId);
      path = [`rules.${index}`, d.field].filter(Boolean).join(".");
    }
    errors[fieldOf(path) || "ruleSet"] ??= d.message;
  }
  return errors;
}

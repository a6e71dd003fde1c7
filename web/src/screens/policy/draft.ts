/**
 * The policy form's state: the policy with every number held as the text in its input, so a half
 * typed value is kept as typed. Validation converts it back and runs the API's own schema
 * (matching/domain/policy.ts), so the form refuses exactly what the API would refuse.
 */
import { type DispatchPolicy, DispatchPolicySchema, type FunnelStage } from "../../../../matching/domain/policy.ts";

type Drafted<T> = T extends number ? string : T extends string ? T : T extends Array<infer U> ? Drafted<U>[] : { [K in keyof T]: Drafted<T[K]> };
export type PolicyDraft = Drafted<DispatchPolicy>;
export type StageDraft = Drafted<FunnelStage>;
/** Field errors by dotted path ("weights.rating", "stages.1.maxOffers", "stages.1" for a stage as a whole). */
export type FieldErrors = Record<string, string>;

/** Text fields that are not numbers; every other leaf is. */
const TEXT_KEYS = new Set(["pool", "mode"]);

function mapLeaves(value: unknown, key: string, leaf: (value: unknown, key: string) => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => mapLeaves(item, key, leaf));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapLeaves(v, k, leaf)]));
  return leaf(value, key);
}

export function toDraft(policy: DispatchPolicy): PolicyDraft {
  return mapLeaves(policy, "", (v) => (typeof v === "number" ? String(v) : v)) as PolicyDraft;
}

const asNumber = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

export function fromDraft(draft: PolicyDraft): unknown {
  return mapLeaves(draft, "", (v, key) => (TEXT_KEYS.has(key) || typeof v !== "string" ? v : asNumber(v)));
}

export function valueAt(draft: PolicyDraft, path: string): unknown {
  return path.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], draft);
}

/** A copy of the draft with the value at `path` replaced. */
export function withValue(draft: PolicyDraft, path: string, value: string): PolicyDraft {
  const copy = structuredClone(draft);
  const parts = path.split(".");
  const last = parts.pop()!;
  const parent = parts.reduce<Record<string, unknown>>((node, part) => node[part] as Record<string, unknown>, copy as unknown as Record<string, unknown>);
  parent[last] = value;
  return copy;
}

export type Validated = { ok: true; policy: DispatchPolicy } | { ok: false; errors: FieldErrors };

export function validate(draft: PolicyDraft): Validated {
  const parsed = DispatchPolicySchema.safeParse(fromDraft(draft));
  if (parsed.success) return { ok: true, policy: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const path = issue.path.join(".");
    if (errors[path]) continue;
    const typed = valueAt(draft, path);
    errors[path] = typeof typed === "string" && !TEXT_KEYS.has(String(issue.path.at(-1))) && Number.isNaN(asNumber(typed)) ? "Enter a number" : issue.message;
  }
  return { ok: false, errors };
}

export const newStage = (): StageDraft => ({ pool: "branch", mode: "dispatch", timeoutSeconds: "60", maxOffers: "3" });

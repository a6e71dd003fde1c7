/**
 * Drafting a new rule set version as a form, starting from a copy of the active set (or a starter
 * set when none is active). Checked with the API's schema before sending; a refusal from the API
 * is shown on the fields it names as well.
 */
import { useState } from "react";
import { ApiError } from "../../api/client.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import type { RuleSet } from "../../../../incentives/rules/schema.ts";
import { type FieldErrors, newRule, type RuleSetDraft, serverErrors, toDraft, validate } from "./draft.ts";
import { TextField } from "./fields.tsx";
import { useCreateDraft } from "./queries.ts";
import { RuleFields } from "./RuleFields.tsx";

/** The schema's bound on the number of rules in a set. */
const MAX_RULES = 100;

/** "rules.0.award" → "Rule 1, award": where a summary line points. */
function placeOf(path: string): string {
  const m = path.match(/^rules\.(\d+)\.?(.*)$/);
  if (!m) return path === "budget.points" ? "Weekly budget" : "Rule set";
  return `Rule ${Number(m[1]) + 1}${m[2] ? `, ${m[2]}` : ""}`;
}

function ErrorSummary({ errors }: { errors: FieldErrors }) {
  const entries = Object.entries(errors);
  if (!entries.length) return null;
  return (
    <div role="alert" className="notice notice-error" data-testid="draft-errors">
      <p>
        <strong>{entries.length === 1 ? "One field needs" : `${entries.length} fields need`} attention before saving:</strong>
      </p>
      <ul>
        {entries.map(([path, message]) => (
          <li key={path}>
            {placeOf(path)}: {message}
          </li>
        ))}
      </ul>
    </div>
  );
}

interface Props {
  branchId: string;
  start: RuleSet;
  /** The version the copy was taken from; null for the starter set. */
  basedOn: number | null;
  onCreated(version: number): void;
  onCancel(): void;
}

export function DraftForm({ branchId, start, basedOn, onCreated, onCancel }: Props) {
  const [draft, setDraft] = useState<RuleSetDraft>(() => toDraft(start));
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useCreateDraft(branchId);
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const checked = validate(draft);
    setErrors(checked.ok ? {} : checked.errors);
    if (!checked.ok) return;
    create.mutate(checked.ruleSet, {
      onSuccess: (created) => onCreated(created.version),
      onError: (error) => {
        if (error instanceof ApiError && error.status === 400) setErrors(serverErrors(draft, error.details));
      },
    });
  };
  const refused = create.error instanceof ApiError && create.error.status === 400 && Object.keys(errors).length > 0;
  return (
    <form onSubmit={submit} noValidate aria-labelledby="draft-title" className="panel">
      <h2 id="draft-title">New draft</h2>
      <p className="muted">{basedOn === null ? "No version is active: starting from a starter set." : `A copy of active version ${basedOn}.`}</p>
      <ErrorSummary errors={errors} />
      {create.error && !refused && <ErrorNotice error={create.error} title="The draft was not saved" />}
      {draft.rules.map((rule, i) => (
        <RuleFields
          key={rule.key}
          rule={rule}
          index={i}
          errors={errors}
          canRemove={draft.rules.length > 1}
          onChange={(next) => setDraft((d) => ({ ...d, rules: d.rules.map((r, j) => (j === i ? next : r)) }))}
          onRemove={() => setDraft((d) => ({ ...d, rules: d.rules.filter((_, j) => j !== i) }))}
        />
      ))}
      <button
        type="button"
        className="add-rule"
        disabled={draft.rules.length >= MAX_RULES}
        onClick={() => setDraft((d) => ({ ...d, rules: [...d.rules, newRule(d.rules)] }))}
      >
        Add a rule
      </button>
      <TextField
        numeric
        label="Weekly budget (points)"
        hint="Points the branch may award per week; awards beyond it are skipped"
        path="budget.points"
        errors={errors}
        value={draft.budget}
        onChange={(budget) => setDraft((d) => ({ ...d, budget }))}
      />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Saving…" : "Save as draft"}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** One rule of the set: its id, the event it earns on, its award (points or a multiplier), conditions and caps. */
import { EARNING_EVENT_TYPES, type EarningEventType } from "../../../../incentives/rules/schema.ts";
import { ConditionFields } from "./ConditionFields.tsx";
import type { AwardKind, FieldErrors, RuleDraft } from "./draft.ts";
import { SelectField, TextField } from "./fields.tsx";

const EVENT_LABELS: Record<EarningEventType, string> = {
  "offer.accepted": "An offer is accepted",
  "request.completed": "A request is completed",
  "request.rated": "A request is rated",
};
const EVENTS = EARNING_EVENT_TYPES.map((e) => [e, EVENT_LABELS[e]] as const);
const AWARD_KINDS = [
  ["points", "Points (a base award)"],
  ["multiplier", "Multiplier (scales the event's points)"],
] as const satisfies ReadonlyArray<readonly [AwardKind, string]>;

interface Props {
  rule: RuleDraft;
  index: number;
  errors: FieldErrors;
  canRemove: boolean;
  onChange(rule: RuleDraft): void;
  onRemove(): void;
}

export function RuleFields({ rule, index, errors, canRemove, onChange, onRemove }: Props) {
  const at = `rules.${index}`;
  const set = (patch: Partial<RuleDraft>) => onChange({ ...rule, ...patch });
  const name = `Rule ${index + 1}`;
  return (
    <fieldset className="rule" data-testid={`rule-${index}`}>
      <legend>
        {name}
        {rule.id ? `: ${rule.id}` : ""}
      </legend>
      <div className="field-row">
        <TextField
          label="Rule id"
          hint="Lower-case letters, digits, - and _"
          path={`${at}.id`}
          errors={errors}
          value={rule.id}
          onChange={(id) => set({ id })}
        />
        <SelectField label="Earns when" path={`${at}.on`} errors={errors} value={rule.on} options={EVENTS} onChange={(on) => set({ on })} />
        <SelectField
          label="Award"
          path={`${at}.awardKind`}
          errors={errors}
          value={rule.awardKind}
          options={AWARD_KINDS}
          onChange={(awardKind) => set({ awardKind })}
        />
        <TextField
          numeric
          label={rule.awardKind === "points" ? "Points per event" : "Multiplier"}
          hint={rule.awardKind === "points" ? "1 to 100000" : "Above 0, at most 10"}
          path={`${at}.award`}
          errors={errors}
          value={rule.award}
          onChange={(award) => set({ award })}
        />
      </div>
      <ConditionFields rule={rule} at={at} errors={errors} onChange={(when) => set({ when })} />
      {rule.awardKind === "points" && (
        <div className="field-row">
          <TextField
            numeric
            label="At most per advisor per day"
            path={`${at}.caps.perAdvisorPerDay`}
            errors={errors}
            value={rule.perDay}
            onChange={(perDay) => set({ perDay })}
          />
          <TextField
            numeric
            label="At most per advisor per week"
            path={`${at}.caps.perAdvisorPerWeek`}
            errors={errors}
            value={rule.perWeek}
            onChange={(perWeek) => set({ perWeek })}
          />
        </div>
      )}
      <button type="button" onClick={onRemove} disabled={!canRemove}>
        Remove<span className="visually-hidden"> {name.toLowerCase()}</span>
      </button>
    </fieldset>
  );
}

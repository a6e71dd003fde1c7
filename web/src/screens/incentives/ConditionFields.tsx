/** A rule's conditions: only those that apply to the rule's event are offered (CONDITION_APPLIES_TO). */
import { STAGE_POOLS } from "../../../../matching/domain/policy.ts";
import { LICENCE_KINDS } from "../../../../matching/domain/types.ts";
import { appliesTo, type ConditionsDraft, type FieldErrors, NUMBER_CONDITIONS, type RuleDraft } from "./draft.ts";
import { CheckboxGroup, FieldError, SelectField, TextField } from "./fields.tsx";

const NUMBER_LABELS: Record<(typeof NUMBER_CONDITIONS)[number], string> = {
  responseSecondsAtMost: "Accepted within (seconds)",
  starsAtLeast: "Rated at least (stars, 1 to 5)",
  streakAtLeast: "Accept streak at least",
  queueDepthAtLeast: "Queue depth at least",
};

const WEEKDAYS = [
  [1, "Mon"],
  [2, "Tue"],
  [3, "Wed"],
  [4, "Thu"],
  [5, "Fri"],
  [6, "Sat"],
  [7, "Sun"],
] as const;

const LICENCES = LICENCE_KINDS.map((k) => [k, k.replace(/_/g, " ")] as const);
const STAGES = [["", "Any stage"] as const, ...STAGE_POOLS.map((s) => [s, s] as const)];

interface Props {
  rule: RuleDraft;
  at: string;
  errors: FieldErrors;
  onChange(when: ConditionsDraft): void;
}

export function ConditionFields({ rule, at, errors, onChange }: Props) {
  const { when } = rule;
  const set = <K extends keyof ConditionsDraft>(key: K, value: ConditionsDraft[K]) => onChange({ ...when, [key]: value });
  return (
    <fieldset className="rule-conditions">
      <legend>Conditions (all that are set must hold; leave empty for none)</legend>
      <div className="field-row">
        {NUMBER_CONDITIONS.filter((name) => appliesTo(name, rule.on)).map((name) => (
          <TextField
            key={name}
            numeric
            label={NUMBER_LABELS[name]}
            path={`${at}.when.${name}`}
            errors={errors}
            value={when[name]}
            onChange={(v) => set(name, v)}
          />
        ))}
        <TextField
          numeric
          label="From hour (0 to 23)"
          path={`${at}.when.localHourIn.from`}
          errors={errors}
          value={when.hourFrom}
          onChange={(v) => set("hourFrom", v)}
        />
        <TextField
          numeric
          label="Until hour (1 to 24)"
          hint="Branch local time; 22 until 6 wraps midnight"
          path={`${at}.when.localHourIn.to`}
          errors={errors}
          value={when.hourTo}
          onChange={(v) => set("hourTo", v)}
        />
        {appliesTo("stage", rule.on) && (
          <SelectField label="Funnel stage" path={`${at}.when.stage`} errors={errors} value={when.stage} options={STAGES} onChange={(v) => set("stage", v)} />
        )}
      </div>
      <FieldError path={`${at}.when.localHourIn`} errors={errors} />
      <CheckboxGroup
        label="Weekdays"
        path={`${at}.when.weekdayIn`}
        errors={errors}
        options={WEEKDAYS}
        checked={when.weekdayIn}
        onChange={(v) => set("weekdayIn", v)}
      />
      <CheckboxGroup
        label="Licence kinds"
        path={`${at}.when.licenceKindIn`}
        errors={errors}
        options={LICENCES}
        checked={when.licenceKindIn}
        onChange={(v) => set("licenceKindIn", v)}
      />
    </fieldset>
  );
}

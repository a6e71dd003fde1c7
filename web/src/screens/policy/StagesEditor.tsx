/** The service funnel: one fieldset per stage, in order, with buttons to add, move and remove stages. */
import { FUNNEL_POOLS, STAGE_MODES } from "../../../../matching/domain/policy.ts";
import type { FieldErrors, StageDraft } from "./draft.ts";
import { NumberField, SelectField } from "./fields.tsx";

/** The schema's bound on the number of stages. */
const MAX_STAGES = 8;

interface Props {
  stages: StageDraft[];
  errors: FieldErrors;
  onChange(path: string, value: string): void;
  onStages(stages: StageDraft[]): void;
  onAdd(): void;
}

function moved<T>(items: T[], from: number, to: number): T[] {
  const copy = [...items];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item!);
  return copy;
}

export function StagesEditor({ stages, errors, onChange, onStages, onAdd }: Props) {
  return (
    <fieldset className="stages">
      <legend>Service funnel</legend>
      {errors.stages && (
        <p className="field-error" data-field-error="stages">
          {errors.stages}
        </p>
      )}
      <ol>
        {stages.map((stage, i) => {
          const at = `stages.${i}`;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: stages have no identity beyond their place in the funnel
            <li key={i}>
              <fieldset className="stage">
                <legend>Stage {i + 1}</legend>
                {errors[at] && (
                  <p className="field-error" data-field-error={at}>
                    {errors[at]}
                  </p>
                )}
                <SelectField label="Pool" path={`${at}.pool`} value={stage.pool} errors={errors} onChange={onChange} options={FUNNEL_POOLS} />
                <SelectField label="Mode" path={`${at}.mode`} value={stage.mode} errors={errors} onChange={onChange} options={STAGE_MODES} />
                <NumberField label="Timeout (seconds)" path={`${at}.timeoutSeconds`} value={stage.timeoutSeconds} errors={errors} onChange={onChange} />
                <NumberField label="Most offers" path={`${at}.maxOffers`} value={stage.maxOffers} errors={errors} onChange={onChange} />
                <div className="stage-actions">
                  <button type="button" disabled={i === 0} onClick={() => onStages(moved(stages, i, i - 1))}>
                    Move up<span className="visually-hidden"> stage {i + 1}</span>
                  </button>
                  <button type="button" disabled={i === stages.length - 1} onClick={() => onStages(moved(stages, i, i + 1))}>
                    Move down<span className="visually-hidden"> stage {i + 1}</span>
                  </button>
                  <button type="button" disabled={stages.length === 1} onClick={() => onStages(stages.filter((_, j) => j !== i))}>
                    Remove<span className="visually-hidden"> stage {i + 1}</span>
                  </button>
                </div>
              </fieldset>
            </li>
          );
        })}
      </ol>
      <button type="button" onClick={onAdd} disabled={stages.length >= MAX_STAGES}>
        Add a stage
      </button>
    </fieldset>
  );
}

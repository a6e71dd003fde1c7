/** Timers, grab settings, the rating prior, ranking weights and the surge threshold. */
import type { FieldErrors, PolicyDraft } from "./draft.ts";
import { NumberField } from "./fields.tsx";

interface Props {
  draft: PolicyDraft;
  errors: FieldErrors;
  onChange(path: string, value: string): void;
}

const TIMERS: Array<[keyof PolicyDraft, string, string]> = [
  ["offerTtlSeconds", "Offer open for (seconds)", "How long a single push offer stays open (5–600)."],
  ["grabWindowSeconds", "Grab window (seconds)", "How long a grab broadcast stays open (5–600)."],
  ["grabTopK", "Advisors per grab broadcast", "At most this many advisors are offered a grab (1–200)."],
  ["maxWaitSeconds", "Longest wait in the queue (seconds)", "After the last stage; then a callback is booked (10–86400)."],
  ["presenceTtlSeconds", "Presence lasts (seconds)", "A heartbeat older than this counts as offline (10–3600)."],
  ["ageingSecondsPerPriority", "Seconds per priority point", "Queue ageing: one priority point per this many seconds waited (1–3600)."],
  ["surgeThreshold", "Surge threshold", "Waiting requests per licence kind above which demand counts as a surge."],
];

const WEIGHTS: Array<[keyof PolicyDraft["weights"], string]> = [
  ["rating", "Rating"],
  ["responsiveness", "Responsiveness"],
  ["load", "Load"],
  ["fairness", "Fairness"],
  ["dedicated", "Dedicated advisor"],
  ["incentive", "Incentive"],
];

export function GeneralFields({ draft, errors, onChange }: Props) {
  return (
    <>
      <fieldset>
        <legend>Timers and limits</legend>
        {TIMERS.map(([key, label, hint]) => (
          <NumberField key={key} label={label} hint={hint} path={key} value={draft[key] as string} errors={errors} onChange={onChange} />
        ))}
      </fieldset>
      <fieldset>
        <legend>Rating prior</legend>
        <NumberField label="Mean (stars)" path="ratingPrior.mean" value={draft.ratingPrior.mean} errors={errors} onChange={onChange} hint="1–5" />
        <NumberField label="Weight (virtual reviews)" path="ratingPrior.weight" value={draft.ratingPrior.weight} errors={errors} onChange={onChange} />
      </fieldset>
      <fieldset>
        <legend>Ranking weights (0–100)</legend>
        {WEIGHTS.map(([key, label]) => (
          <NumberField key={key} label={label} path={`weights.${key}`} value={draft.weights[key]} errors={errors} onChange={onChange} />
        ))}
      </fieldset>
    </>
  );
}

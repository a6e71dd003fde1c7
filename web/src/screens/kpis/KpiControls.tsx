/** The dashboard's controls: which days (today, last 7 or 30, or two dates) and hour or day buckets. */
import type { KpiBucket } from "./types.ts";
import type { RangeChoice } from "./range.ts";

export interface KpiSelection {
  choice: RangeChoice;
  custom: { from: string; to: string };
  bucket: KpiBucket;
}

const CHOICES: Array<[RangeChoice, string]> = [
  ["today", "Today"],
  ["last7", "Last 7 days"],
  ["last30", "Last 30 days"],
  ["custom", "Custom dates"],
];

const BUCKETS: Array<[KpiBucket, string]> = [
  ["hour", "By hour"],
  ["day", "By day"],
];

function Radio<T extends string>({ name, value, label, checked, onPick }: { name: string; value: T; label: string; checked: boolean; onPick(v: T): void }) {
  return (
    <label className="kpi-radio">
      <input type="radio" name={name} value={value} checked={checked} onChange={() => onPick(value)} /> {label}
    </label>
  );
}

export function KpiControls({ selection, onChange }: { selection: KpiSelection; onChange(next: KpiSelection): void }) {
  const set = (patch: Partial<KpiSelection>) => onChange({ ...selection, ...patch });
  return (
    <div className="kpi-controls">
      <fieldset>
        <legend>Range</legend>
        {CHOICES.map(([value, label]) => (
          <Radio key={value} name="kpi-range" value={value} label={label} checked={selection.choice === value} onPick={(choice) => set({ choice })} />
        ))}
        {selection.choice === "custom" && (
          <div className="kpi-dates">
            <div className="field">
              <label htmlFor="kpi-from">First day</label>
              <input id="kpi-from" type="date" value={selection.custom.from} onChange={(e) => set({ custom: { ...selection.custom, from: e.target.value } })} />
            </div>
            <div className="field">
              <label htmlFor="kpi-to">Last day (included)</label>
              <input id="kpi-to" type="date" value={selection.custom.to} onChange={(e) => set({ custom: { ...selection.custom, to: e.target.value } })} />
            </div>
          </div>
        )}
      </fieldset>
      <fieldset>
        <legend>Buckets</legend>
        {BUCKETS.map(([value, label]) => (
          <Radio key={value} name="kpi-bucket" value={value} label={label} checked={selection.bucket === value} onPick={(bucket) => set({ bucket })} />
        ))}
      </fieldset>
    </div>
  );
}

/** The staffing screen's controls: the local date, and the target (percent within seconds). */

export interface StaffingSelection {
  date: string;
  percent: string;
  seconds: string;
}

/** The API's bounds (api/routes/staffing.ts), checked here first so a typo says so in words. */
export function selectionProblem(s: StaffingSelection): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s.date)) return "Enter a date.";
  const percent = Number(s.percent);
  if (s.percent.trim() === "" || !(percent >= 1 && percent <= 99)) return "The target share must be between 1 and 99 percent.";
  const seconds = Number(s.seconds);
  if (s.seconds.trim() === "" || !Number.isInteger(seconds) || seconds < 1 || seconds > 600)
    return "The target time must be a whole number of seconds from 1 to 600.";
  return null;
}

export function StaffingControls({ selection, onChange, today }: { selection: StaffingSelection; onChange(next: StaffingSelection): void; today: string }) {
  const set = (patch: Partial<StaffingSelection>) => onChange({ ...selection, ...patch });
  return (
    <div className="kpi-controls">
      <div className="field">
        <label htmlFor="staffing-date">Day</label>
        <input id="staffing-date" type="date" max={today} value={selection.date} onChange={(e) => set({ date: e.target.value })} />
      </div>
      <fieldset>
        <legend>Target</legend>
        <div className="kpi-dates">
          <div className="field">
            <label htmlFor="staffing-percent">Answered (%)</label>
            <input
              id="staffing-percent"
              type="number"
              min={1}
              max={99}
              inputMode="numeric"
              value={selection.percent}
              onChange={(e) => set({ percent: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="staffing-seconds">Within (seconds)</label>
            <input
              id="staffing-seconds"
              type="number"
              min={1}
              max={600}
              inputMode="numeric"
              value={selection.seconds}
              onChange={(e) => set({ seconds: e.target.value })}
            />
          </div>
        </div>
      </fieldset>
    </div>
  );
}

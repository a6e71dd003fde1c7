/**
 * The surge incentive suggested for an hour under target (reporting/staffing.ts): a rule for the
 * branch's incentive rule set (incentives/rules/schema.ts), a multiplier on accepts in that local
 * hour on that weekday, sized from the shortfall. Pure: no I/O.
 *
 * Why a multiplier on `offer.accepted`: a surge is about advisors answering sooner in one hour, and
 * an accept is the event an advisor controls then; a multiplier scales whatever the branch already
 * pays per accept instead of inventing a price for it. Why needed / available: at that size, each
 * accept of the hour is paid as if the work were shared among the advisors it needed, so the hour's
 * incentive per accept grows with the gap and is 1 when there is none. Rounded up to a quarter, at
 * least 1.25 (smaller is not worth a rule), at most 10 (the schema's limit); fewer than one available
 * advisor counts as one, so an empty hour asks for `needed` times, not infinity. The weekday is the
 * date's: demand repeats by weekday more than by date, and a rule set is not dated.
 */
import type { Rule } from "../incentives/rules/schema.ts";

export interface SurgeSuggestion {
  /** Advisors short: needed − mean available. */
  shortfall: number;
  multiplier: number;
  /** A rule for the branch's rule set, as POST /v1/branches/{id}/incentive-rules takes it. */
  rule: Rule;
  reasoning: string;
}

export const SURGE_MULTIPLIER = { min: 1.25, max: 10, step: 0.25 } as const;

/** ISO weekday (Monday 1 … Sunday 7) of a YYYY-MM-DD date. */
export const isoWeekday = (date: string): number => {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
};

const WEEKDAYS = ["", "Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"];
const two = (n: number) => String(n).padStart(2, "0");
const round2 = (x: number) => Math.round(x * 100) / 100;

export function surgeFor(hour: { date: string; localHour: number; needed: number; available: number }): SurgeSuggestion {
  const ratio = hour.needed / Math.max(hour.available, 1);
  const stepped = Math.ceil(ratio / SURGE_MULTIPLIER.step - 1e-9) * SURGE_MULTIPLIER.step;
  const multiplier = Math.min(SURGE_MULTIPLIER.max, Math.max(SURGE_MULTIPLIER.min, stepped));
  const weekday = isoWeekday(hour.date);
  const rule: Rule = {
    id: `surge-d${weekday}-h${two(hour.localHour)}`,
    on: "offer.accepted",
    when: { localHourIn: { from: hour.localHour, to: hour.localHour + 1 }, weekdayIn: [weekday] },
    award: { multiplier },
  };
  const shortfall = round2(hour.needed - hour.available);
  const reasoning =
    `${hour.needed} advisors were needed and ${round2(hour.available)} were available on average, ${shortfall} short. ` +
    `The suggestion multiplies the points of every accept on ${WEEKDAYS[weekday]} ${two(hour.localHour)}:00-${two(hour.localHour + 1)}:00 ` +
    `by needed / available (${round2(ratio)}${hour.available < 1 ? ", counting one advisor for fewer" : ""}), rounded up to a quarter` +
    `${multiplier !== stepped ? ` and kept within ${SURGE_MULTIPLIER.min}-${SURGE_MULTIPLIER.max}` : ""}: ${multiplier}. ` +
    "It scales the branch's points rules for offer.accepted, so a rule set without one needs a points rule for accepts too.";
  return { shortfall, multiplier, rule, reasoning };
}

/** The record's timeline as an ordered list; each offer shows the eligibility facts copied when it was made. */
import { type TimelineEntry, timelineOf } from "./timeline.ts";
import type { DecisionRecord, EligibilitySnapshot } from "./types.ts";
import { when } from "./when.ts";

function Eligibility({ e }: { e: EligibilitySnapshot }) {
  const rows: Array<[string, string]> = [
    ["Checked", when(e.checkedAt)],
    [
      "Licence",
      `${e.licence.kind} ${e.licence.number} (${e.licence.issuer}), valid ${e.licence.validFrom.slice(0, 10)} to ${e.licence.validUntil.slice(0, 10)}`,
    ],
    ["Suitability", `client risk ${e.suitability.clientRisk}, advisor up to ${e.suitability.advisorMaxRisk}`],
    ["Language", `asked for ${e.language.requested ?? "any"}; advisor speaks ${e.language.advisor.join(", ") || "none listed"}`],
    ["Presence", e.presence],
    ["Load", `${e.active} in progress and ${e.pendingPush} offers pending, of ${e.maxConcurrent}`],
  ];
  return (
    <details className="eligibility">
      <summary>Why eligible</summary>
      <dl>
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

function Entry({ entry }: { entry: TimelineEntry }) {
  return (
    <li className={`timeline-entry timeline-${entry.kind}`} data-kind={entry.kind}>
      <time dateTime={entry.at}>{when(entry.at)}</time> <strong>{entry.title}</strong>
      {entry.details.length > 0 && (
        <ul className="timeline-details">
          {entry.details.map(([label, value]) => (
            <li key={label}>
              {label}: {value}
            </li>
          ))}
        </ul>
      )}
      {entry.eligibility && <Eligibility e={entry.eligibility} />}
    </li>
  );
}

export function Timeline({ record }: { record: DecisionRecord }) {
  const entries = timelineOf(record);
  return (
    <section aria-labelledby="timeline-title">
      <h3 id="timeline-title">Timeline of decisions ({entries.length})</h3>
      <ol className="timeline" data-testid="record-timeline">
        {entries.map((entry, i) => (
          // Entries never reorder for one record: the index is a stable key.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above
          <Entry key={i} entry={entry} />
        ))}
      </ol>
    </section>
  );
}

/**
 * An advisor's licences: kind, number, issuer, valid until and status. A licence no one may use
 * (expired, suspended, revoked) says so in words, with a marker and bold text, not colour alone.
 */
import type { LicenceSummary } from "./types.ts";

const KIND_NAMES: Record<string, string> = {
  securities_advisory: "Securities advisory",
  fund_sales: "Fund sales",
  futures: "Futures",
  insurance: "Insurance",
};

/** validUntil as a calendar date (UTC), the way registers print it. */
const dateOf = (iso: string) => iso.slice(0, 10);

export function LicenceList({ licences }: { licences: LicenceSummary[] }) {
  if (licences.length === 0) return <span className="muted">None</span>;
  return (
    <ul className="licence-list">
      {licences.map((l) => {
        const usable = l.status === "active";
        return (
          <li key={l.id} data-licence-status={l.status}>
            {KIND_NAMES[l.kind] ?? l.kind} <span className="muted">{l.number}</span>, valid until {dateOf(l.validUntil)}:{" "}
            {usable ? <span>active</span> : <strong className="licence-unusable">⚠ {l.status.toUpperCase()}, not usable</strong>}
          </li>
        );
      })}
    </ul>
  );
}

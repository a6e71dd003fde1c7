/** The directory's table: one row per advisor, with live presence and load, scores, scope and licences. */
import { NONE } from "../kpis/format.ts";
import { LicenceList } from "./LicenceList.tsx";
import type { ListedAdvisor } from "./types.ts";

const rating = (x: number | null) => (x === null ? NONE : `${x.toFixed(2)} of 5`);
const responsiveness = (x: number | null) => (x === null ? NONE : `${Math.round(x * 100)}%`);

function AdvisorRow({ advisor: a }: { advisor: ListedAdvisor }) {
  return (
    <tr data-testid="advisor-row" data-advisor-id={a.id}>
      <th scope="row">
        {a.name} <span className="muted">{a.id}</span>
        {a.status !== "active" && <strong> ({a.status})</strong>}
      </th>
      <td data-presence={a.live.presence}>{a.live.presence}</td>
      <td className="nowrap">
        {a.live.active} of {a.live.capacity}
      </td>
      <td className="nowrap">{rating(a.live.rating)}</td>
      <td>{responsiveness(a.live.responsiveness)}</td>
      <td>{a.languages.join(", ") || NONE}</td>
      <td>up to risk {a.suitabilityMaxRisk}</td>
      <td>
        <LicenceList licences={a.licences} />
      </td>
    </tr>
  );
}

export function AdvisorTable({ advisors }: { advisors: ListedAdvisor[] }) {
  return (
    <table data-testid="directory-table" className="directory-table">
      <caption className="visually-hidden">The branch's advisors</caption>
      <thead>
        <tr>
          <th scope="col">Advisor</th>
          <th scope="col">Presence</th>
          <th scope="col">Load</th>
          <th scope="col">Rating</th>
          <th scope="col">Responsiveness</th>
          <th scope="col">Languages</th>
          <th scope="col">Suitability</th>
          <th scope="col">Licences</th>
        </tr>
      </thead>
      <tbody>
        {advisors.map((a) => (
          <AdvisorRow key={a.id} advisor={a} />
        ))}
      </tbody>
    </table>
  );
}

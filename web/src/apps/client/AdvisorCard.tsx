/**
 * The advisor who took the request: name, the licence that made them eligible (kind and number, as
 * recorded when they were offered it) and their rating from clients so far.
 */
import type { AdvisorRating, RequestView } from "./types.ts";
import { licenceLabel } from "./words.ts";

function ratingWords(rating: AdvisorRating): string {
  if (rating.average === null || rating.count === 0) return "New advisor: no ratings yet";
  return `${rating.average.toFixed(1)} out of 5 from ${rating.count} ${rating.count === 1 ? "rating" : "ratings"}`;
}

export function AdvisorCard({ advisor }: { advisor: NonNullable<RequestView["advisor"]> }) {
  const validUntil = new Date(advisor.licence.validUntil);
  return (
    <section aria-labelledby="advisor-title" className="client-card client-advisor" data-testid="advisor-card">
      <h2 id="advisor-title">Your advisor</h2>
      <p className="client-advisor-name" data-testid="advisor-name">
        {advisor.name}
      </p>
      <dl className="client-facts">
        <div>
          <dt>Licence</dt>
          <dd data-testid="advisor-licence" data-kind={advisor.licence.kind}>
            {licenceLabel(advisor.licence.kind)}, number <span data-testid="advisor-licence-number">{advisor.licence.number}</span>
            {!Number.isNaN(validUntil.getTime()) && <span className="muted"> (valid until {validUntil.toLocaleDateString()})</span>}
          </dd>
        </div>
        {advisor.rating && (
          <div>
            <dt>Rating</dt>
            <dd data-testid="advisor-rating">{ratingWords(advisor.rating)}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}

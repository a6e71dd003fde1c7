/**
 * The offers: push offers (made to this advisor alone, answer before the countdown ends) and the
 * grab list (broadcast to several advisors: the first accept wins). With `onlyWhenAny`, a section
 * with nothing in it is left out (the conversation screen shows offers only when there are some).
 */
import { useLive } from "../live.tsx";
import type { ShownOffer } from "../offers.ts";
import { OfferCard } from "./OfferCard.tsx";

function OfferSection({ id, title, hint, empty, offers }: { id: string; title: string; hint?: string; empty: string; offers: ShownOffer[] }) {
  return (
    <section aria-labelledby={id} className="panel offers" data-testid={id}>
      <h2 id={id}>
        {title} ({offers.filter((o) => !o.withdrawn).length})
      </h2>
      {hint && <p className="muted">{hint}</p>}
      {offers.length ? (
        <ul className="offer-list">
          {offers.map((offer) => (
            <li key={offer.offerId}>
              <OfferCard offer={offer} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{empty}</p>
      )}
    </section>
  );
}

export function OffersPanel({ onlyWhenAny = false }: { onlyWhenAny?: boolean }) {
  const { offers } = useLive();
  const push = offers.filter((o) => o.kind === "push");
  const grab = offers.filter((o) => o.kind === "broadcast");
  return (
    <>
      {(!onlyWhenAny || push.length > 0) && <OfferSection id="push-offers" title="Offers for you" empty="No offers right now." offers={push} />}
      {(!onlyWhenAny || grab.length > 0) && (
        <OfferSection
          id="grab-offers"
          title="Open to grab"
          hint="Sent to several advisors: the first to accept gets the client."
          empty="Nothing to grab right now."
          offers={grab}
        />
      )}
    </>
  );
}

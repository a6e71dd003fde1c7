/**
 * One offer: what the client wants, the time left, Accept and Decline. Once withdrawn (taken by
 * someone else, expired, withdrawn) the buttons go and the reason shows for a few seconds.
 */
import { useLive } from "../live.tsx";
import { type ShownOffer, WITHDRAWN_WORDS } from "../offers.ts";
import { licenceName } from "../types.ts";
import { Countdown } from "./Countdown.tsx";

export function OfferCard({ offer }: { offer: ShownOffer }) {
  const { accept, decline } = useLive();
  const titleId = `offer-${offer.offerId}-title`;
  const ended = offer.withdrawn !== null;
  return (
    <article
      className={ended ? "offer-card offer-card-ended" : "offer-card"}
      aria-labelledby={titleId}
      data-testid="offer-card"
      data-offer-id={offer.offerId}
      data-request-id={offer.requestId}
      data-kind={offer.kind}
    >
      <h3 id={titleId} className="offer-topic">
        {offer.topic}
      </h3>
      <p className="offer-meta">
        {licenceName(offer.requiredLicence)} · {offer.channel}
      </p>
      {offer.withdrawn ? (
        <p className="offer-withdrawn" data-testid="offer-withdrawn" data-reason={offer.withdrawn.reason}>
          {WITHDRAWN_WORDS[offer.withdrawn.reason]}
        </p>
      ) : (
        <Countdown expiresAt={offer.expiresAt} />
      )}
      {offer.problem && (
        <p role="alert" className="offer-problem">
          {offer.problem}
        </p>
      )}
      {!ended && (
        <div className="offer-actions">
          <button type="button" className="primary" disabled={offer.busy} onClick={() => void accept(offer)}>
            Accept
          </button>
          <button type="button" disabled={offer.busy} onClick={() => void decline(offer)}>
            Decline
          </button>
        </div>
      )}
    </article>
  );
}

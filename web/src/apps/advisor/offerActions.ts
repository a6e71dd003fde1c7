/**
 * Answering an offer over HTTP (the socket only delivers). The API's 409s are expected outcomes,
 * shown on the card: ALREADY_TAKEN and OFFER_EXPIRED end it (with the reason, like a withdrawal the
 * socket reports), AT_CAPACITY and NOT_ELIGIBLE leave it open with the reason next to its buttons.
 */
import { useQueryClient } from "@tanstack/react-query";
import { type Dispatch, useCallback } from "react";
import { api, ApiError } from "../../api/client.ts";
import { navigate } from "../../router.ts";
import type { OffersAction, ShownOffer } from "./offers.ts";
import { advisorKeys } from "./queries.ts";

const OPEN_PROBLEMS: Record<string, string> = {
  AT_CAPACITY: "You are at your maximum number of clients: complete a conversation first.",
  NOT_ELIGIBLE: "You are not eligible for this request right now (presence, licence, suitability or language).",
};

function problemOf(error: unknown): string {
  if (error instanceof ApiError) return OPEN_PROBLEMS[error.code] ?? error.message;
  return (error as Error).message ?? String(error);
}

export function useOfferActions(dispatch: Dispatch<OffersAction>, say: (text: string) => void) {
  const queryClient = useQueryClient();

  const refused = useCallback(
    (offer: ShownOffer, error: unknown) => {
      const code = error instanceof ApiError ? error.code : null;
      if (code === "ALREADY_TAKEN") dispatch({ type: "withdrawn", offerId: offer.offerId, reason: "lost_race", at: Date.now(), inferred: true });
      else if (code === "OFFER_EXPIRED") dispatch({ type: "withdrawn", offerId: offer.offerId, reason: "timed_out", at: Date.now(), inferred: true });
      else dispatch({ type: "problem", offerId: offer.offerId, problem: problemOf(error) });
    },
    [dispatch],
  );

  const accept = useCallback(
    async (offer: ShownOffer) => {
      dispatch({ type: "answering", offerId: offer.offerId });
      try {
        const { requestId } = await api<{ requestId: string }>("POST", `/v1/offers/${offer.offerId}/accept`);
        dispatch({ type: "removed", offerId: offer.offerId });
        say(`Accepted: ${offer.topic}. The conversation is open.`);
        void queryClient.invalidateQueries({ queryKey: advisorKeys.all });
        navigate(`/requests/${requestId}`);
      } catch (error) {
        refused(offer, error);
      }
    },
    [dispatch, say, queryClient, refused],
  );

  const decline = useCallback(
    async (offer: ShownOffer) => {
      dispatch({ type: "answering", offerId: offer.offerId });
      try {
        await api("POST", `/v1/offers/${offer.offerId}/decline`);
        dispatch({ type: "removed", offerId: offer.offerId });
        say(`Declined: ${offer.topic}.`);
      } catch (error) {
        refused(offer, error);
      }
    },
    [dispatch, say, refused],
  );

  return { accept, decline };
}

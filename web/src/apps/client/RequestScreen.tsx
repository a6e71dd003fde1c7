/**
 * One request from the tap to the end: waiting (the funnel stage, the status and the estimate),
 * then the advisor and the conversation, then the rating; or how it ended without one. The view
 * comes from GET /v1/requests/{id} and is kept current by the socket's request.updated.
 */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { ScreenHeading } from "../../components/ScreenHeading.tsx";
import { AdvisorCard } from "./AdvisorCard.tsx";
import { Chat } from "./Chat.tsx";
import { Ended } from "./Ended.tsx";
import { useRequest } from "./queries.ts";
import { RatingForm } from "./RatingForm.tsx";
import type { RequestView } from "./types.ts";
import { channelLabel, licenceLabel, statusWords } from "./words.ts";
import { Waiting } from "./Waiting.tsx";

function titleOf(request: RequestView): string {
  switch (request.status) {
    case "pending":
    case "offered":
      return "Finding your advisor";
    case "assigned":
      return "Your conversation";
    case "completed":
      return "Conversation ended";
    case "cancelled":
      return "Request cancelled";
    default:
      return request.callbackRequested ? "We will call you back" : "Nobody was free";
  }
}

function Phase({ request }: { request: RequestView }) {
  if (request.status === "pending" || request.status === "offered") return <Waiting request={request} />;
  if (request.status === "assigned" || request.status === "completed") {
    return (
      <>
        {request.advisor && <AdvisorCard advisor={request.advisor} />}
        <Chat request={request} />
        {request.status === "completed" && <RatingForm request={request} />}
      </>
    );
  }
  return <Ended request={request} />;
}

export function RequestScreen({ id }: { id: string }) {
  const request = useRequest(id);
  if (request.error) return <ErrorNotice error={request.error} title="This request could not be loaded" />;
  if (!request.data) return <p>Loading…</p>;
  const view = request.data;
  return (
    <section aria-labelledby="screen-title" data-testid="request-screen" data-status={view.status}>
      <ScreenHeading>{titleOf(view)}</ScreenHeading>
      <p className="client-about">
        <span className="visually-hidden">Your request: </span>
        {view.topic} · {licenceLabel(view.requiredLicence)} · {channelLabel(view.channel)}
      </p>
      {/* Said aloud on every change, whichever part of the screen is showing. */}
      <p role="status" className="visually-hidden">
        {statusWords(view.status)}
      </p>
      <Phase request={view} />
    </section>
  );
}

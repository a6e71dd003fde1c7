/**
 * The waiting screen: who is being asked now (the funnel stage), whether an advisor is being offered
 * the request at this moment, how long such requests usually wait, and a way to cancel.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiError, api } from "../../api/client.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { keys } from "./queries.ts";
import type { RequestView } from "./types.ts";
import { WaitEstimateText } from "./WaitEstimate.tsx";
import { duration, STAGE_STEPS, stageNow, statusWords } from "./words.ts";

function Funnel({ stage }: { stage: string }) {
  return (
    <ol className="client-funnel" aria-label="Who is asked, in order">
      {STAGE_STEPS.map((step) => (
        <li key={step.stage} aria-current={step.stage === stage ? "step" : undefined}>
          {step.label}
        </li>
      ))}
    </ol>
  );
}

/** Seconds since the request was made, counted on this device. */
function Elapsed({ since }: { since: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return <p className="muted">You have waited {duration((now - Date.parse(since)) / 1000)}.</p>;
}

function CancelButton({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => api<{ id: string; status: string }>("POST", `/v1/requests/${encodeURIComponent(id)}/cancel`),
    // Either way the request has moved on (cancelled, or it ended a moment before): show it as it is.
    onSettled: () => queryClient.invalidateQueries({ queryKey: keys.request(id) }),
  });
  const ended = cancel.error instanceof ApiError && cancel.error.code === "INVALID_STATE";
  return (
    <div className="client-cancel">
      <button type="button" data-testid="cancel-request" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
        {cancel.isPending ? "Cancelling…" : "Cancel my request"}
      </button>
      {cancel.error && !ended && <ErrorNotice error={cancel.error} title="Your request could not be cancelled" />}
    </div>
  );
}

export function Waiting({ request }: { request: RequestView }) {
  return (
    <section aria-labelledby="waiting-title" className="client-card" data-testid="waiting">
      <h2 id="waiting-title">Where your request is</h2>
      <p data-testid="request-status" data-status={request.status} className={`client-status client-status-${request.status}`}>
        {statusWords(request.status)}
      </p>
      <p data-testid="request-stage" data-stage={request.stage} className="client-stage">
        {stageNow(request.stage)}
      </p>
      <Funnel stage={request.stage} />
      <Elapsed since={request.createdAt} />
      <WaitEstimateText request={request} />
      <CancelButton id={request.id} />
    </section>
  );
}

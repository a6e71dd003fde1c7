/**
 * A request that ended without a conversation: cancelled by the client, or expired because nobody
 * took it within the branch's maximum wait, in which case the engine books a callback
 * (callbackRequested) and the client is told an advisor will call them back.
 */
import { hrefOf, navigate } from "../../router.ts";
import type { RequestView } from "./types.ts";

function Outcome({ request }: { request: RequestView }) {
  if (request.status === "cancelled") {
    return (
      <div className="notice" data-testid="ended" data-outcome="cancelled">
        <p>
          <strong>You cancelled this request.</strong> No advisor will contact you about it.
        </p>
      </div>
    );
  }
  if (request.callbackRequested) {
    return (
      <div className="notice notice-ok" data-testid="ended" data-outcome="callback">
        <p>
          <strong data-testid="callback">An advisor will call you back.</strong>
        </p>
        <p>Nobody was free to take your request in time, so it has been booked for a callback. You do not need to ask again.</p>
      </div>
    );
  }
  return (
    <div className="notice" data-testid="ended" data-outcome="expired">
      <p>
        <strong>Nobody could take your request in time.</strong> Please try again.
      </p>
    </div>
  );
}

export function Ended({ request }: { request: RequestView }) {
  return (
    <>
      <Outcome request={request} />
      <div className="form-actions">
        <button type="button" className="primary" onClick={() => navigate("/talk")}>
          Talk to an advisor again
        </button>
        <a href={hrefOf("/")}>Back to the start</a>
      </div>
    </>
  );
}

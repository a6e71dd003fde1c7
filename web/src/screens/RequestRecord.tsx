/**
 * Request record: one request's decision record, chosen by id or from the branch's recent requests.
 * The hash router (router.ts) matches whole paths, so #/record?id=… would not reach this screen;
 * the request shown lives in the page's query string instead (/console/?request=req_…#/record),
 * which the router ignores: a link to it opens this screen on that request, and a reload keeps it.
 */
import { useState } from "react";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { RecentRequests, RequestIdForm } from "./record/RequestPicker.tsx";
import { RecordView } from "./record/RecordView.tsx";
import type { ScreenProps } from "./types.ts";
import "./record/record.css";

const PARAM = "request";

const requestInUrl = () => new URLSearchParams(window.location.search).get(PARAM) ?? "";

/** The page's own address for a request's record. */
export const recordHref = (requestId: string) => `${window.location.pathname}?${PARAM}=${encodeURIComponent(requestId)}#/record`;

export function RequestRecord({ branchId }: ScreenProps) {
  const [requestId, setRequestId] = useState(requestInUrl);
  const pick = (id: string) => {
    setRequestId(id);
    // replaceState: no hashchange, so the router and the screen stay as they are.
    window.history.replaceState(window.history.state, "", recordHref(id));
  };
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Request record</ScreenHeading>
      <RequestIdForm key={requestId} current={requestId} onPick={pick} />
      {requestId && (
        <p>
          <a href={recordHref(requestId)} data-testid="record-link">
            Link to this record
          </a>
        </p>
      )}
      {requestId && <RecordView key={requestId} requestId={requestId} />}
      {branchId ? <RecentRequests branchId={branchId} current={requestId} onPick={pick} /> : <p>Choose a branch to list its recent requests.</p>}
    </section>
  );
}

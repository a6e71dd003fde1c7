/**
 * The wait, as the server measured it for requests like this one: its median and 80th percentile,
 * with the sample they came from. With too little recent history the server gives no figure and
 * neither does this: an invented number would be worse than none.
 */
import { useWaitEstimate } from "./queries.ts";
import type { RequestView, WaitEstimate } from "./types.ts";
import { duration } from "./words.ts";

/** The API's basis is a clause ("time from asking to…"); shown on its own, it reads as a sentence. */
const sentence = (clause: string) => `${clause.charAt(0).toUpperCase()}${clause.slice(1)}${/[.!?]$/.test(clause) ? "" : "."}`;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function estimateWords(estimate: WaitEstimate | null): string {
  if (!estimate) return "No estimate of the wait yet.";
  if (estimate.medianSeconds === null) return "We don't have enough recent history to estimate your wait.";
  const usual = `Usually answered within about ${duration(estimate.medianSeconds)} (the median of ${plural(estimate.sampleSize, "recent request", "recent requests")})`;
  return estimate.p80Seconds === null ? `${usual}.` : `${usual}; 80% within ${duration(estimate.p80Seconds)}.`;
}

export function WaitEstimateText({ request }: { request: RequestView }) {
  const estimate = useWaitEstimate(request);
  return (
    <div className="client-estimate" data-testid="wait-estimate">
      {estimate.isPending ? (
        <p>Estimating your wait…</p>
      ) : estimate.error ? (
        <p>The wait estimate is not available right now.</p>
      ) : (
        <>
          <p>{estimateWords(estimate.data ?? null)}</p>
          {estimate.data?.basis && <p className="muted">{sentence(estimate.data.basis)}</p>}
        </>
      )}
    </div>
  );
}

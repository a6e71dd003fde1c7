/**
 * Rating the advisor once the conversation is completed: 1 to 5 stars (a radio group, so it works
 * with a keyboard and a screen reader like any choice) and an optional comment. The API takes one
 * rating per request; a second one is answered 409, which is shown as "already rated".
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, api } from "../../api/client.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { FieldError, invalidProps } from "./FieldError.tsx";
import { keys } from "./queries.ts";
import type { RequestView } from "./types.ts";

const STARS = [1, 2, 3, 4, 5] as const;

function StarChoices({ stars, onPick, problem }: { stars: number | null; onPick(n: number): void; problem: string | undefined }) {
  return (
    <fieldset className="client-stars" aria-describedby={problem ? "stars-error" : undefined}>
      <legend>How many stars?</legend>
      <div className="client-stars-row">
        {STARS.map((n) => (
          <label key={n} className={stars !== null && n <= stars ? "client-star on" : "client-star"}>
            <input type="radio" name="stars" value={n} checked={stars === n} onChange={() => onPick(n)} />
            <span aria-hidden="true">★</span>
            <span className="visually-hidden">{n === 1 ? "1 star" : `${n} stars`}</span>
          </label>
        ))}
      </div>
      <FieldError field="stars" message={problem} />
    </fieldset>
  );
}

export function RatingForm({ request }: { request: RequestView }) {
  const [stars, setStars] = useState<number | null>(null);
  const [missing, setMissing] = useState(false);
  const queryClient = useQueryClient();
  const rate = useMutation({
    mutationFn: (body: { stars: number; comment?: string }) =>
      api<{ requestId: string; stars: number }>("POST", `/v1/requests/${encodeURIComponent(request.id)}/rating`, body),
    // The advisor's card shows their rating, which now counts this one.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.request(request.id) }),
  });
  const apiError = rate.error instanceof ApiError ? rate.error : null;
  if (rate.isSuccess || apiError?.code === "CONFLICT") {
    return (
      <section aria-labelledby="rating-title" className="client-card" data-testid="rating">
        <h2 id="rating-title">Rate your advisor</h2>
        <p role="status" data-testid="rating-thanks" className="notice notice-ok">
          {rate.isSuccess ? `Thank you: you gave ${rate.data.stars} ${rate.data.stars === 1 ? "star" : "stars"}.` : "You have already rated this conversation."}
        </p>
      </section>
    );
  }
  const problemOf = (field: string) => apiError?.fieldErrors().find((p) => p.path === field)?.message;
  const starsProblem = missing ? "Choose from 1 to 5 stars" : problemOf("stars");
  return (
    <section aria-labelledby="rating-title" className="client-card" data-testid="rating">
      <h2 id="rating-title">Rate your advisor</h2>
      <form
        noValidate
        data-testid="rating-form"
        onSubmit={(e) => {
          e.preventDefault();
          setMissing(stars === null);
          if (stars === null) return;
          const comment = new FormData(e.currentTarget).get("comment");
          rate.mutate({ stars, ...(typeof comment === "string" && comment.trim() ? { comment } : {}) });
        }}
      >
        <StarChoices stars={stars} onPick={setStars} problem={starsProblem} />
        <div className="field">
          <label htmlFor="rating-comment">Comment (optional)</label>
          <textarea id="rating-comment" name="comment" rows={3} maxLength={2000} {...invalidProps("comment", problemOf("comment"))} />
          <FieldError field="comment" message={problemOf("comment")} />
        </div>
        {rate.error && !apiError?.fieldErrors().length && <ErrorNotice error={rate.error} title="Your rating was not sent" />}
        <button type="submit" className="primary" data-testid="rating-submit" disabled={rate.isPending}>
          {rate.isPending ? "Sending…" : "Send rating"}
        </button>
      </form>
    </section>
  );
}

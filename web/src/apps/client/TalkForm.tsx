/**
 * "Talk to an advisor": what about, which licence the advice needs and how to talk. The API is the
 * judge of the fields (a 400 names them and each message is shown by its field). The request is
 * sent with an Idempotency-Key, kept while the form's content stays the same: a tap on a flaky
 * network that is retried gets the request made the first time, not a second one.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef } from "react";
import { CHANNELS, LICENCE_KINDS } from "../../../../matching/domain/types.ts";
import { ApiError, api } from "../../api/client.ts";
import { newIdempotencyKey } from "../../api/idempotency.ts";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { ScreenHeading } from "../../components/ScreenHeading.tsx";
import { hrefOf, navigate } from "../../router.ts";
import { FieldError, invalidProps } from "./FieldError.tsx";
import { keys } from "./queries.ts";
import { CHANNEL_LABELS, LICENCE_LABELS } from "./words.ts";

interface NewRequest {
  topic: string;
  requiredLicence: string;
  channel: string;
}

const FIELDS = ["topic", "requiredLicence", "channel"] as const;

function readForm(form: HTMLFormElement): NewRequest {
  const data = new FormData(form);
  const value = (name: string) => {
    const v = data.get(name);
    return typeof v === "string" ? v : "";
  };
  return { topic: value("topic"), requiredLicence: value("requiredLicence"), channel: value("channel") };
}

/** One key per distinct body: the same body again is a retry, a changed one a new request. */
function useKeyPerBody() {
  const last = useRef<{ body: string; key: string } | null>(null);
  return (body: NewRequest) => {
    const text = JSON.stringify(body);
    if (last.current?.body !== text) last.current = { body: text, key: newIdempotencyKey() };
    return last.current.key;
  };
}

export function TalkForm() {
  const queryClient = useQueryClient();
  const keyFor = useKeyPerBody();
  const create = useMutation({
    mutationFn: (body: NewRequest) => api<{ id: string; status: string }>("POST", "/v1/requests", body, { idempotencyKey: keyFor(body) }),
    onSuccess: ({ id }) => {
      void queryClient.invalidateQueries({ queryKey: keys.history });
      navigate(`/requests/${id}`);
    },
    onError: (error) => {
      // Take the user to the first field the API refused.
      const first = error instanceof ApiError ? FIELDS.find((f) => error.fieldErrors().some((d) => d.path === f)) : undefined;
      if (first) document.querySelector<HTMLElement>(`[name="${first}"]`)?.focus();
    },
  });
  const problems = create.error instanceof ApiError ? create.error.fieldErrors() : [];
  const problemOf = (field: string) => problems.find((p) => p.path === field)?.message;
  const unplaced = create.error && !problems.some((p) => (FIELDS as readonly string[]).includes(p.path));

  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Talk to an advisor</ScreenHeading>
      <form
        noValidate
        className="client-form"
        data-testid="talk-form"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate(readForm(e.currentTarget));
        }}
      >
        <div className="field">
          <label htmlFor="talk-topic">What would you like to talk about?</label>
          <input id="talk-topic" name="topic" type="text" maxLength={200} required autoComplete="off" {...invalidProps("topic", problemOf("topic"))} />
          <FieldError field="topic" message={problemOf("topic")} />
        </div>
        <div className="field">
          <label htmlFor="talk-licence">Kind of advice</label>
          <select id="talk-licence" name="requiredLicence" required {...invalidProps("requiredLicence", problemOf("requiredLicence"))}>
            {LICENCE_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {LICENCE_LABELS[kind]}
              </option>
            ))}
          </select>
          <FieldError field="requiredLicence" message={problemOf("requiredLicence")} />
        </div>
        <fieldset className="client-choices" aria-describedby={problemOf("channel") ? "channel-error" : undefined}>
          <legend>How would you like to talk?</legend>
          {CHANNELS.map((channel, i) => (
            <label key={channel} className="client-choice">
              <input type="radio" name="channel" value={channel} defaultChecked={i === 0} /> {CHANNEL_LABELS[channel]}
            </label>
          ))}
          <FieldError field="channel" message={problemOf("channel")} />
        </fieldset>
        {unplaced && <ErrorNotice error={create.error} title="Your request could not be sent" />}
        <div className="form-actions">
          <button type="submit" className="primary" data-testid="talk-submit" disabled={create.isPending}>
            {create.isPending ? "Sending…" : "Ask for an advisor"}
          </button>
          <a href={hrefOf("/")}>Back</a>
        </div>
      </form>
    </section>
  );
}

/** The start: the "Talk to an advisor" button, and the client's recent requests to go back to. */
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { ScreenHeading } from "../../components/ScreenHeading.tsx";
import { hrefOf, navigate } from "../../router.ts";
import { useHistory } from "./queries.ts";
import { ENDED } from "./types.ts";
import { licenceLabel, statusWords } from "./words.ts";

function RecentRequests() {
  const history = useHistory();
  if (history.error) return <ErrorNotice error={history.error} title="Your requests could not be loaded" />;
  const items = history.data?.items ?? [];
  return (
    <section aria-labelledby="recent-title" className="client-card">
      <h2 id="recent-title">Your recent requests</h2>
      {history.isPending && <p>Loading…</p>}
      {!history.isPending && items.length === 0 && <p className="muted">None yet.</p>}
      <ul className="client-history" data-testid="history">
        {items.map((r) => (
          <li key={r.id}>
            <a href={hrefOf(`/requests/${r.id}`)}>{r.topic}</a>
            <span className="muted">
              {" "}
              {licenceLabel(r.requiredLicence)} · {statusWords(r.status)}
              {!ENDED.has(r.status) && " (open)"}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Home() {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Need advice?</ScreenHeading>
      <p>A licensed advisor can talk to you now: by chat, phone or video.</p>
      <button type="button" className="primary client-cta" data-testid="talk" onClick={() => navigate("/talk")}>
        Talk to an advisor
      </button>
      <RecentRequests />
    </section>
  );
}

/** Available or away: a switch, with what it means in words next to it. */
import { ErrorNotice } from "../../../components/ErrorNotice.tsx";
import type { PresenceState } from "../presence.ts";

export function PresenceToggle({ presence }: { presence: PresenceState }) {
  const available = presence.chosen === "available";
  return (
    <div className="presence">
      <button
        type="button"
        role="switch"
        aria-checked={available}
        aria-describedby="presence-meaning"
        className="switch"
        onClick={() => presence.choose(available ? "away" : "available")}
      >
        <span className="switch-track" aria-hidden="true">
          <span className="switch-thumb" />
        </span>
        <span>Available for offers</span>
      </button>
      <p id="presence-meaning" className="presence-meaning" data-testid="presence-meaning">
        {available ? "Available: new clients can be offered to you." : "Away: no new offers until you switch back."}
      </p>
      {presence.problem && <ErrorNotice error={presence.problem} title="Your presence could not be recorded" />}
    </div>
  );
}

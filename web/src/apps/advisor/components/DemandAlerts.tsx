/** Surge alerts as they arrive on the socket: many clients waiting for a licence this advisor holds. */
import { useLive } from "../live.tsx";
import { licenceName } from "../types.ts";

export function DemandAlerts() {
  const { alerts } = useLive();
  return (
    <section aria-labelledby="alerts-title" className="panel">
      <h2 id="alerts-title">Demand alerts</h2>
      {alerts.length === 0 ? (
        <p className="muted">No surge right now. When many clients wait for your licence, you will see it here.</p>
      ) : (
        <ul className="alert-list" data-testid="demand-alerts">
          {alerts.map((a) => (
            <li key={`${a.receivedAt}-${a.requiredLicence}`} className="demand-alert">
              <strong>Surge:</strong> {a.waiting} clients waiting for {licenceName(a.requiredLicence).toLowerCase()}{" "}
              <span className="muted">
                (at <time dateTime={new Date(a.receivedAt).toISOString()}>{new Date(a.receivedAt).toLocaleTimeString()}</time>)
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

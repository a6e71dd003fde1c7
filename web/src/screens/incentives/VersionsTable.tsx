/**
 * The branch's rule set versions, newest first, with what each says and what can be done with it:
 * simulate any version; activate a draft, or roll back by activating a retired one. Activation asks
 * for confirmation first, since it changes what advisors earn from that moment.
 */
import { useEffect, useRef } from "react";
import type { Rule } from "../../../../incentives/rules/schema.ts";
import type { RuleSetVersion } from "./queries.ts";

const EVENT_WORDS: Record<Rule["on"], string> = {
  "offer.accepted": "accept",
  "request.completed": "completed request",
  "request.rated": "rating",
};

function describeRule(rule: Rule): string {
  const award = "points" in rule.award ? `${rule.award.points} points` : `×${rule.award.multiplier}`;
  const conditions = Object.keys(rule.when ?? {}).length;
  return `${rule.id}: ${award} per ${EVENT_WORDS[rule.on]}${conditions ? ` (${conditions} condition${conditions > 1 ? "s" : ""})` : ""}`;
}

const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : "");

interface ConfirmProps {
  target: RuleSetVersion;
  active: RuleSetVersion | undefined;
  pending: boolean;
  onConfirm(): void;
  onCancel(): void;
}

/** The confirm step: says what will change, and takes focus on its confirm button (Tab reaches Cancel). */
export function ConfirmActivate({ target, active, pending, onConfirm, onCancel }: ConfirmProps) {
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmRef.current?.focus(), []);
  const rollback = active !== undefined && target.version < active.version;
  return (
    <section aria-labelledby="confirm-title" className="notice confirm" data-testid="confirm-activate">
      <p id="confirm-title">
        <strong>
          {rollback ? "Roll back to" : "Activate"} version {target.version}?
        </strong>{" "}
        {active ? `Version ${active.version} retires, and` : "From now on"} awards are earned under version {target.version}'s rules.
      </p>
      <div className="form-actions">
        <button ref={confirmRef} type="button" className="primary" disabled={pending} onClick={onConfirm}>
          {pending ? "Activating…" : `Yes, activate version ${target.version}`}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

interface Props {
  versions: RuleSetVersion[];
  selected: number | null;
  onSimulate(version: number): void;
  onActivate(version: number): void;
}

export function VersionsTable({ versions, selected, onSimulate, onActivate }: Props) {
  const active = versions.find((v) => v.status === "active");
  return (
    <table data-testid="rule-versions">
      <caption className="visually-hidden">Rule set versions, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">Rules</th>
          <th scope="col">Weekly budget</th>
          <th scope="col">Created</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.version} aria-current={v.version === selected ? "true" : undefined}>
            <th scope="row">{v.version}</th>
            <td>
              <span className={`status status-${v.status}`}>{v.status}</span>
              {v.activatedAt && <div className="muted">since {when(v.activatedAt)}</div>}
            </td>
            <td>
              <ul className="rule-list">
                {v.ruleSet.rules.map((r) => (
                  <li key={r.id}>{describeRule(r)}</li>
                ))}
              </ul>
            </td>
            <td>{v.ruleSet.budget.points}</td>
            <td>
              {v.createdBy}
              <div className="muted">{when(v.createdAt)}</div>
            </td>
            <td className="actions">
              <button type="button" onClick={() => onSimulate(v.version)}>
                Simulate<span className="visually-hidden"> version {v.version}</span>
              </button>{" "}
              {v.status !== "active" && (
                <button type="button" onClick={() => onActivate(v.version)}>
                  {active && v.version < active.version ? "Roll back to" : "Activate"} version {v.version}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

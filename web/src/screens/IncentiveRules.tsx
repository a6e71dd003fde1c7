/**
 * The branch's incentive rule sets: every version with its status, a form to draft a new one from a
 * copy of the active set, a simulation of any version over recorded events, and activation (or a
 * rollback, which activates an earlier version) after a confirm step.
 */
import { useState } from "react";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { STARTER_RULE_SET } from "./incentives/draft.ts";
import { DraftForm } from "./incentives/DraftForm.tsx";
import { type RuleSetVersion, useActivate, useRuleSets } from "./incentives/queries.ts";
import { SimulatePanel } from "./incentives/SimulatePanel.tsx";
import { ConfirmActivate, VersionsTable } from "./incentives/VersionsTable.tsx";
import "./incentives/incentives.css";
import type { ScreenProps } from "./types.ts";

interface ActivationProps {
  branchId: string;
  versions: RuleSetVersion[];
  target: number;
  onActivated(result: { version: number; retired: number | null }): void;
  onCancel(): void;
}

function Activation({ branchId, versions, target, onActivated, onCancel }: ActivationProps) {
  const activate = useActivate(branchId);
  const version = versions.find((v) => v.version === target);
  if (!version) return null;
  return (
    <>
      <ConfirmActivate
        target={version}
        active={versions.find((v) => v.status === "active")}
        pending={activate.isPending}
        onConfirm={() => activate.mutate(target, { onSuccess: onActivated })}
        onCancel={onCancel}
      />
      {activate.error && <ErrorNotice error={activate.error} title={`Version ${target} was not activated`} />}
    </>
  );
}

function RuleSets({ branchId }: { branchId: string }) {
  const ruleSets = useRuleSets(branchId);
  const [drafting, setDrafting] = useState(false);
  const [simulating, setSimulating] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  if (ruleSets.error) return <ErrorNotice error={ruleSets.error} title="The rule sets could not be loaded" />;
  if (!ruleSets.data) return <p>Loading…</p>;
  const versions = ruleSets.data;
  const active = versions.find((v) => v.status === "active");
  return (
    <>
      {notice && (
        <p role="status" className="notice notice-ok" data-testid="rules-notice">
          {notice}
        </p>
      )}
      <section aria-labelledby="versions-title" className="panel">
        <h2 id="versions-title">Versions</h2>
        <p data-testid="active-version">{active ? `Version ${active.version} is active.` : "No version is active: advisors earn no incentive points."}</p>
        {confirming !== null && (
          <Activation
            key={confirming}
            branchId={branchId}
            versions={versions}
            target={confirming}
            onCancel={() => setConfirming(null)}
            onActivated={({ version, retired }) => {
              setConfirming(null);
              setNotice(`Version ${version} is active${retired === null ? "" : `; version ${retired} is retired`}.`);
            }}
          />
        )}
        {versions.length === 0 ? (
          <p>This branch has no rule sets yet.</p>
        ) : (
          <VersionsTable versions={versions} selected={simulating} onSimulate={setSimulating} onActivate={setConfirming} />
        )}
        {!drafting && (
          <button type="button" className="primary" onClick={() => setDrafting(true)}>
            Draft a new rule set
          </button>
        )}
      </section>
      {drafting && (
        <DraftForm
          branchId={branchId}
          start={active?.ruleSet ?? STARTER_RULE_SET}
          basedOn={active?.version ?? null}
          onCancel={() => setDrafting(false)}
          onCreated={(version) => {
            setDrafting(false);
            setNotice(`Saved as draft version ${version}. Simulate it, then activate it when it does what you want.`);
            setSimulating(version);
          }}
        />
      )}
      {simulating !== null && <SimulatePanel key={simulating} branchId={branchId} version={simulating} />}
    </>
  );
}

export function IncentiveRules({ branchId }: ScreenProps) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Incentive rules{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId ? <RuleSets key={branchId} branchId={branchId} /> : <p>Choose a branch to see its incentive rules.</p>}
    </section>
  );
}

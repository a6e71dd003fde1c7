/**
 * The dispatch policy editor: a form validated with the API's own schema, saved with the version it
 * was loaded at (expectedVersion). When someone saved in between, the API answers 409 and the editor
 * says so and offers to load their version, rather than overwrite it.
 */
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, get } from "../api/client.ts";
import type { BranchPolicy } from "../api/types.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { ScreenHeading } from "../components/ScreenHeading.tsx";
import { type FieldErrors, newStage, type PolicyDraft, toDraft, validate, withValue } from "./policy/draft.ts";
import { GeneralFields } from "./policy/GeneralFields.tsx";
import { SimulatePanel } from "./policy/SimulatePanel.tsx";
import { StagesEditor } from "./policy/StagesEditor.tsx";
import type { ScreenProps } from "./types.ts";

const policyPath = (branchId: string) => `/v1/branches/${encodeURIComponent(branchId)}/dispatch-policy`;

function ConflictNotice({ error, onReload }: { error: ApiError; onReload(): void }) {
  const current = (error.details as { currentVersion?: number } | undefined)?.currentVersion;
  return (
    <div role="alert" className="notice notice-conflict" data-testid="policy-conflict">
      <p>
        <strong>Not saved: someone else changed this policy</strong>
        {current === undefined ? "" : ` (it is now at version ${current})`} while you were editing. Load their version, then make your change again.
      </p>
      <p className="notice-meta">request id {error.requestId ?? "unknown"}</p>
      <button type="button" onClick={onReload}>
        Load the latest version
      </button>
    </div>
  );
}

function Editor({ branchId, loaded, onReload }: { branchId: string; loaded: BranchPolicy; onReload(): Promise<BranchPolicy | undefined> }) {
  const [base, setBase] = useState(loaded);
  const [draft, setDraft] = useState<PolicyDraft>(() => toDraft(loaded.policy));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saved, setSaved] = useState<number | null>(null);
  const save = useMutation({
    mutationFn: (policy: object) => api<BranchPolicy>("PUT", policyPath(branchId), { ...policy, expectedVersion: base.version }),
    onSuccess: (stored) => {
      setBase(stored);
      setDraft(toDraft(stored.policy));
      setSaved(stored.version);
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 400) setErrors(Object.fromEntries(error.fieldErrors().map((d) => [d.path, d.message])));
    },
  });
  const change = (path: string, value: string) => setDraft((d) => withValue(d, path, value));
  const reload = async () => {
    const latest = await onReload();
    if (!latest) return;
    setBase(latest);
    setDraft(toDraft(latest.policy));
    setErrors({});
    setSaved(null);
    save.reset();
  };
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    setSaved(null);
    const checked = validate(draft);
    setErrors(checked.ok ? {} : checked.errors);
    if (checked.ok) save.mutate(checked.policy);
  };
  /** The edited policy for the what-if, checked as a save would check it. */
  const candidate = () => {
    const checked = validate(draft);
    setErrors(checked.ok ? {} : checked.errors);
    return checked.ok ? checked.policy : null;
  };
  const conflict = save.error instanceof ApiError && save.error.status === 409 ? save.error : null;
  const errorCount = Object.keys(errors).length;
  return (
    <form onSubmit={submit} noValidate aria-describedby="policy-version">
      <p id="policy-version" data-testid="policy-version">
        Version {base.version}
        {base.updatedBy ? `, saved by ${base.updatedBy}` : " (the default; never saved)"}
        {base.updatedAt ? ` at ${new Date(base.updatedAt).toLocaleString()}` : ""}
      </p>
      {errorCount > 0 && (
        <p role="alert" className="notice notice-error">
          {errorCount === 1 ? "One field needs" : `${errorCount} fields need`} attention before saving.
        </p>
      )}
      {conflict && <ConflictNotice error={conflict} onReload={() => void reload()} />}
      {save.error && !conflict && save.error instanceof ApiError && save.error.status !== 400 && <ErrorNotice error={save.error} title="Not saved" />}
      {saved !== null && (
        <p role="status" className="notice notice-ok" data-testid="policy-saved">
          Saved as version {saved}.
        </p>
      )}
      <StagesEditor
        stages={draft.stages}
        errors={errors}
        onChange={change}
        onStages={(stages) => setDraft((d) => ({ ...d, stages }))}
        onAdd={() => setDraft((d) => ({ ...d, stages: [...d.stages, newStage()] }))}
      />
      <GeneralFields draft={draft} errors={errors} onChange={change} />
      <SimulatePanel branchId={branchId} candidate={candidate} />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save policy"}
        </button>
        <button type="button" onClick={() => void reload()}>
          Discard changes and reload
        </button>
      </div>
    </form>
  );
}

function PolicyFor({ branchId }: { branchId: string }) {
  const policy = useQuery({
    queryKey: ["branch", branchId, "policy"],
    queryFn: () => get<BranchPolicy>(policyPath(branchId)),
    // The form owns its copy: a background refetch must not replace what is being edited.
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
  if (policy.error) return <ErrorNotice error={policy.error} title="The policy could not be loaded" />;
  if (!policy.data) return <p>Loading…</p>;
  return <Editor branchId={branchId} loaded={policy.data} onReload={async () => (await policy.refetch()).data} />;
}

export function PolicyEditor({ branchId }: ScreenProps) {
  return (
    <section aria-labelledby="screen-title">
      <ScreenHeading>Dispatch policy{branchId ? `: ${branchId}` : ""}</ScreenHeading>
      {branchId ? <PolicyFor key={branchId} branchId={branchId} /> : <p>Choose a branch to edit its policy.</p>}
    </section>
  );
}

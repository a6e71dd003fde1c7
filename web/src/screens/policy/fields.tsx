/** Labelled form fields whose error sits next to them and is tied to the input for screen readers. */
import type { ReactNode } from "react";
import type { FieldErrors } from "./draft.ts";

const idOf = (path: string) => `field-${path.replace(/\./g, "-")}`;

interface FieldProps {
  label: string;
  path: string;
  value: string;
  errors: FieldErrors;
  onChange(path: string, value: string): void;
  hint?: string;
}

function Described({ path, error, hint, children }: { path: string; error?: string; hint?: string; children: ReactNode }) {
  const id = idOf(path);
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      {children}
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error" data-field-error={path}>
          {error}
        </p>
      )}
    </div>
  );
}

function describedBy(path: string, error?: string, hint?: string): string | undefined {
  const id = idOf(path);
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function NumberField({ label, path, value, errors, onChange, hint }: FieldProps) {
  const error = errors[path];
  return (
    <Described path={path} error={error} hint={hint}>
      <label htmlFor={idOf(path)}>{label}</label>
      <input
        id={idOf(path)}
        name={path}
        type="text"
        inputMode="decimal"
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, error, hint)}
        onChange={(e) => onChange(path, e.target.value)}
      />
    </Described>
  );
}

export function SelectField({ label, path, value, errors, onChange, options }: FieldProps & { options: readonly string[] }) {
  const error = errors[path];
  return (
    <Described path={path} error={error}>
      <label htmlFor={idOf(path)}>{label}</label>
      <select
        id={idOf(path)}
        name={path}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, error)}
        onChange={(e) => onChange(path, e.target.value)}
      >
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </Described>
  );
}

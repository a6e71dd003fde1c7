/**
 * The rule set form's labelled fields. Each field's error sits under it and is tied to the input
 * (aria-describedby, aria-invalid), so a screen reader reads the problem with the field.
 */
import type { ReactNode } from "react";
import type { FieldErrors } from "./draft.ts";

export const idOf = (path: string) => `rs-${path.replace(/\./g, "-")}`;

interface Base {
  label: string;
  path: string;
  errors: FieldErrors;
  hint?: string;
}

function describedBy(path: string, error?: string, hint?: string): string | undefined {
  const ids = [hint ? `${idOf(path)}-hint` : "", error ? `${idOf(path)}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function FieldError({ path, errors }: { path: string; errors: FieldErrors }) {
  const error = errors[path];
  if (!error) return null;
  return (
    <p id={`${idOf(path)}-error`} className="field-error" data-field-error={path}>
      {error}
    </p>
  );
}

function Field({ path, errors, hint, children }: Omit<Base, "label"> & { children: ReactNode }) {
  return (
    <div className={`field${errors[path] ? " field-invalid" : ""}`}>
      {children}
      {hint && (
        <p id={`${idOf(path)}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      <FieldError path={path} errors={errors} />
    </div>
  );
}

export function TextField({
  label,
  path,
  errors,
  hint,
  value,
  onChange,
  numeric,
  type = "text",
}: Base & { value: string; onChange(value: string): void; numeric?: boolean; type?: "text" | "date" }) {
  const error = errors[path];
  return (
    <Field path={path} errors={errors} hint={hint}>
      <label htmlFor={idOf(path)}>{label}</label>
      <input
        id={idOf(path)}
        type={type}
        inputMode={numeric ? "decimal" : undefined}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, error, hint)}
        onChange={(e) => onChange(e.target.value)}
      />
    </Field>
  );
}

export function SelectField<T extends string>({
  label,
  path,
  errors,
  value,
  options,
  onChange,
}: Base & { value: T; options: ReadonlyArray<readonly [T, string]>; onChange(value: T): void }) {
  const error = errors[path];
  return (
    <Field path={path} errors={errors}>
      <label htmlFor={idOf(path)}>{label}</label>
      <select
        id={idOf(path)}
        value={value}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(path, error)}
        onChange={(e) => onChange(e.target.value as T)}
      >
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** A set of checkboxes as one field: a fieldset whose legend names it. */
export function CheckboxGroup<T extends string | number>({
  label,
  path,
  errors,
  hint,
  options,
  checked,
  onChange,
}: Base & { options: ReadonlyArray<readonly [T, string]>; checked: readonly T[]; onChange(checked: T[]): void }) {
  const error = errors[path];
  return (
    <fieldset className={`checkbox-group${error ? " field-invalid" : ""}`} aria-describedby={describedBy(path, error, hint)}>
      <legend>{label}</legend>
      {options.map(([v, text]) => (
        <label key={String(v)} className="checkbox">
          <input
            type="checkbox"
            checked={checked.includes(v)}
            onChange={(e) => onChange(e.target.checked ? [...checked, v] : checked.filter((c) => c !== v))}
          />{" "}
          {text}
        </label>
      ))}
      {hint && (
        <p id={`${idOf(path)}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      <FieldError path={path} errors={errors} />
    </fieldset>
  );
}

/** A field's message from the API's 400, tied to the field so a screen reader reads it with it. */

const errorId = (field: string) => `${field}-error`;

/** aria-invalid and aria-describedby for a field the API refused (nothing when it did not). */
export function invalidProps(field: string, message: string | undefined) {
  return message ? { "aria-invalid": true as const, "aria-describedby": errorId(field) } : {};
}

export function FieldError({ field, message }: { field: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p id={errorId(field)} className="field-error" data-field-error={field}>
      {message}
    </p>
  );
}

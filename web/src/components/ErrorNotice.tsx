/** Shows an API failure the way the API reported it: the message, its code and the request id to quote. */
import { ApiError } from "../api/client.ts";

export function ErrorNotice({ error, title = "Something went wrong" }: { error: unknown; title?: string }) {
  const apiError = error instanceof ApiError ? error : null;
  return (
    <div role="alert" className="notice notice-error">
      <p>
        <strong>{title}:</strong> {apiError?.message ?? (error as Error)?.message ?? String(error)}
      </p>
      {apiError && (
        <p className="notice-meta">
          {apiError.code}
          {apiError.status ? ` (HTTP ${apiError.status})` : ""}
          {apiError.requestId ? ` · request id ${apiError.requestId}` : ""}
        </p>
      )}
    </div>
  );
}

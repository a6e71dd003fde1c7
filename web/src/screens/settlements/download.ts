/**
 * Downloading a file the API guards: a plain link would not send the bearer token, so the file is
 * fetched with it, then saved from a blob under the name the server gave (Content-Disposition).
 */
import { ApiError } from "../../api/client.ts";

/** The filename="…" of a Content-Disposition header, or the fallback. */
export function filenameOf(disposition: string | null, fallback: string): string {
  const match = disposition?.match(/filename="?([^";]+)"?/i);
  return match?.[1]?.trim() || fallback;
}

async function failure(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } };
    if (body.error?.code)
      return new ApiError(res.status, body.error.code, body.error.message ?? res.statusText, body.error.requestId ?? null, body.error.details);
  } catch {
    // not the API's error shape: fall through
  }
  return new ApiError(res.status, "HTTP_ERROR", `${res.status} ${res.statusText}`.trim(), res.headers.get("x-request-id"), undefined);
}

/** Fetches `path` with the token and hands the browser the file; returns the saved file's name. */
export async function downloadWithToken(path: string, token: string | null, fallbackName: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: "text/csv", ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  } catch (error) {
    throw new ApiError(0, "NETWORK", `the server could not be reached (${(error as Error).message})`, null, undefined);
  }
  if (!res.ok) throw await failure(res);
  const name = filenameOf(res.headers.get("content-disposition"), fallbackName);
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the blob to the download; the URL is not needed after this turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
  return name;
}

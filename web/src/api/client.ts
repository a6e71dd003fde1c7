/**
 * The one way the console talks to the API: JSON over fetch with the session's bearer token. Every
 * failure becomes an ApiError carrying the API's error shape { error: { code, message, requestId } },
 * so screens can show the message and the request id a support person asks for.
 */

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Field-level problems the API named (a 400's details), if any. */
  fieldErrors(): ErrorDetail[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter((d): d is ErrorDetail => typeof d?.path === "string" && typeof d?.message === "string");
  }
}

type TokenSource = () => string | null;

let currentToken: TokenSource = () => null;

/** Where the client reads the bearer token from (the session); set once at start. */
export function setTokenSource(source: TokenSource): void {
  currentToken = source;
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; requestId?: string; details?: unknown } };
    if (body.error?.code)
      return new ApiError(res.status, body.error.code, body.error.message ?? res.statusText, body.error.requestId ?? null, body.error.details);
  } catch {
    // not our error shape (a proxy's page): fall through
  }
  return new ApiError(res.status, "HTTP_ERROR", `${res.status} ${res.statusText}`.trim(), res.headers.get("x-request-id"), undefined);
}

export interface CallOptions {
  /** Sent as Idempotency-Key: a retry of the same call with the same key is answered, not repeated. */
  idempotencyKey?: string;
}

export async function api<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
  const token = currentToken();
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, "NETWORK", `the server could not be reached (${(error as Error).message})`, null, undefined);
  }
  if (!res.ok) throw await toApiError(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export const get = <T>(path: string) => api<T>("GET", path);

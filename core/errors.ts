/**
 * Error codes shared by every layer. Expected outcomes are values (`{ ok: false, reason }`); an
 * AppError is how the API layer turns one into a response, and the code picks the HTTP status in
 * exactly one table (api/errors.ts).
 */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "IDEMPOTENCY_CONFLICT",
  "OFFER_EXPIRED",
  "ALREADY_TAKEN",
  "AT_CAPACITY",
  "NOT_ELIGIBLE",
  "INVALID_STATE",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "RATE_LIMITED",
  "UNAVAILABLE",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }
}

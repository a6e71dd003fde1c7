/**
 * The one error shape, `{ error: { code, message, requestId } }`, the one code→status table, the one
 * onError and the one zod hook. Routes throw AppError or return values; nothing else writes errors.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { AppError, type ErrorCode } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { illFormedPath, NOT_WELL_FORMED } from "../core/unicode.ts";
import { classifyUnavailable } from "../platform/unavailable.ts";

export const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_CONFLICT: 409,
  OFFER_EXPIRED: 409,
  ALREADY_TAKEN: 409,
  AT_CAPACITY: 409,
  NOT_ELIGIBLE: 409,
  INVALID_STATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: unknown };
}

export function errorResponse(c: Context, code: ErrorCode, message: string, details?: unknown): Response {
  const body: ErrorBody = { error: { code, message, requestId: c.get("requestId") ?? "unknown", ...(details === undefined ? {} : { details }) } };
  if (code === "UNAVAILABLE") c.header("Retry-After", "5");
  return c.json(body, STATUS_BY_CODE[code]);
}

/**
 * The zod hook for every validated route: a 400 listing the issues, never a 500. It also refuses a
 * valid input holding a string that is not well-formed Unicode (a lone surrogate), naming the field:
 * storage would keep U+FFFD in its place, and a hash taken of the input (the message and audit
 * chains) would then never match the record. Checking here covers every route's every string.
 */
export function validationHook(result: { success: boolean; error?: ZodError; data?: unknown; target?: string }, c: Context): Response | undefined {
  if (result.success) {
    const path = illFormedPath(result.data);
    if (!path) return undefined;
    const field = path.join(".") || (result.target ?? "input");
    return errorResponse(c, "VALIDATION_FAILED", `${field} is not well-formed Unicode`, [{ path: field, message: NOT_WELL_FORMED }]);
  }
  if (!result.error) return undefined;
  const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  return errorResponse(c, "VALIDATION_FAILED", "the request did not match the schema", issues);
}

/**
 * PostgreSQL data exceptions (class 22: a value out of range, an invalid byte sequence): input that
 * validation let through but storage cannot hold. The caller's fault, so a 400, never a 500.
 */
function isStorageRangeError(error: unknown): boolean {
  const text = error instanceof Error ? `${error.message} ${JSON.stringify((error as { meta?: unknown }).meta ?? "")}` : "";
  return /\b22(0(0[1-8]|12|15|21|P0)|003|008|021|P02)\b|out of range|invalid byte sequence/i.test(text);
}

export function createOnError(logger: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof AppError) return errorResponse(c, error.code, error.message, error.details);
    if (error instanceof HTTPException) {
      const status = error.status;
      const code: ErrorCode =
        status === 401
          ? "UNAUTHENTICATED"
          : status === 403
            ? "FORBIDDEN"
            : status === 404
              ? "NOT_FOUND"
              : status === 413
                ? "PAYLOAD_TOO_LARGE"
                : status === 415
                  ? "UNSUPPORTED_MEDIA_TYPE"
                  : status === 429
                    ? "RATE_LIMITED"
                    : status < 500
                      ? "VALIDATION_FAILED"
                      : "INTERNAL";
      return errorResponse(c, code, error.message || "request refused");
    }
    if (error instanceof SyntaxError) return errorResponse(c, "VALIDATION_FAILED", "the body is not valid JSON");
    // Before the storage-range check: a connection error's details (a port, a host) must never be
    // read as the caller's bad input.
    const unavailable = classifyUnavailable(error);
    if (unavailable) {
      logger.warn({ err: error, requestId: c.get("requestId"), dependency: unavailable.dependency, reason: unavailable.reason }, "dependency unavailable");
      return errorResponse(c, "UNAVAILABLE", "a backing service is unavailable; retry shortly");
    }
    if (isStorageRangeError(error)) {
      logger.warn({ err: error, requestId: c.get("requestId") }, "input out of storage range");
      return errorResponse(c, "VALIDATION_FAILED", "a value is outside what can be stored");
    }
    logger.error({ err: error, requestId: c.get("requestId") }, "unhandled error");
    return errorResponse(c, "INTERNAL", "internal error");
  };
}

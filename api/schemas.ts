/** Schemas shared by route groups: the error body, id parameters, common responses. */
import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "../core/errors.ts";
import { ID_PREFIXES, type IdKind } from "../core/ids.ts";
import { isWellFormed, NOT_WELL_FORMED } from "../core/unicode.ts";

export const ErrorBodySchema = z
  .object({
    error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), requestId: z.string(), details: z.unknown().optional() }),
  })
  .openapi("Error");

const errorContent = { "application/json": { schema: ErrorBodySchema } };

/** The error responses every authenticated route can give. */
export const COMMON_ERRORS = {
  400: { description: "VALIDATION_FAILED: the input did not match the schema", content: errorContent },
  401: { description: "UNAUTHENTICATED", content: errorContent },
  403: { description: "FORBIDDEN", content: errorContent },
  404: { description: "NOT_FOUND", content: errorContent },
  429: { description: "RATE_LIMITED", content: errorContent },
  503: { description: "UNAVAILABLE: a backing service is down; see Retry-After", content: errorContent },
} as const;

export const CONFLICT_RESPONSE = { 409: { description: "the request conflicts with the current state", content: errorContent } } as const;

/**
 * Free text from users: trimmed, bounded, and free of control characters (PostgreSQL refuses NUL in
 * text, and nothing a person types needs the others; tabs and newlines are allowed).
 */
export function text(min: number, max: number) {
  return (
    z
      .string()
      .trim()
      .min(min)
      .max(max)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this check's purpose
      .refine((v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v), "must not contain control characters")
      .refine(isWellFormed, NOT_WELL_FORMED)
  );
}

/** BCP 47-ish language tags ("en", "zh-Hant"), lower-cased: matching compares them that way. */
export const LanguageTag = z
  .string()
  .trim()
  .min(2)
  .max(16)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "must be a language tag such as en or zh-Hant")
  .transform((v) => v.toLowerCase());

/** An ISO 8601 instant with an offset, within years PostgreSQL and people both mean (1900-9999). */
export const Instant = z.iso.datetime({ offset: true }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1900 && year <= 9999;
}, "must be between the years 1900 and 9999");

/** A path parameter holding an id of one kind: `req_…`, `off_…`. */
export function idParam(kind: IdKind) {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return z
    .string()
    .min(prefix.length + 1)
    .max(64)
    .regex(new RegExp(`^${prefix}[0-9a-z_]+$`), `must be an id starting with ${prefix}`)
    .openapi({ param: { name: "id", in: "path" }, example: `${prefix}01jd0000000000000000000000` });
}

/** A JSON request or response body of this schema, for createRoute. */
export const json = <T extends z.ZodTypeAny>(schema: T) => ({ "application/json": { schema } });

/** `Idempotency-Key`: a retried write with the same key and body has no second effect. */
export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
    .optional(),
});

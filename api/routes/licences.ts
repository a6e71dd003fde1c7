/**
 * The licence register for admins: change one licence (suspend, revoke, reinstate, re-date), or
 * import a CSV file of many. A change takes effect in matching before the response: the advisor's
 * live profile is reloaded, so nothing new is offered for a licence they lost, and their open
 * offers for it are withdrawn.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { mediaTypeOf } from "../mediaType.ts";
import { AppError } from "../../core/errors.ts";
import { parseCsv, type CsvProblem } from "../../directory/csv.ts";
import { shownLicenceStatus, SHOWN_LICENCE_STATUSES } from "../../directory/licenceStatus.ts";
import {
  changeLicence,
  importLicences,
  LICENCE_STATUSES,
  type ChangeRefusal,
  type ImportRow,
  type RegisteredLicence,
} from "../../directory/licenceRegister.ts";
import { LICENCE_CHANGED_REASON, withdrawUnlicensedOffers } from "../../directory/licenceEnforcement.ts";
import { LICENCE_KINDS } from "../../matching/domain/types.ts";
import { requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, Instant, text, json } from "../schemas.ts";

const IMPORT_COLUMNS = ["kind", "number", "status", "validUntil"] as const;
/** Rows per file: the whole file is applied in one transaction, so it is kept bounded (the body limit allows about this many). */
const MAX_IMPORT_ROWS = 5_000;

// ---- schemas ---------------------------------------------------------------------------------------

const LicenceNumber = text(1, 64);

const LicenceParams = z.object({
  kind: z.enum(LICENCE_KINDS).openapi({ param: { name: "kind", in: "path" } }),
  number: LicenceNumber.openapi({ param: { name: "number", in: "path" }, example: "FS-123456" }),
});

const ChangeLicenceBody = z
  .object({
    status: z.enum(LICENCE_STATUSES).optional(),
    validUntil: Instant.optional(),
    /** Why: kept in the audit record. */
    reason: text(1, 500),
  })
  .strict()
  .refine((b) => b.status !== undefined || b.validUntil !== undefined, { message: "give status, validUntil or both", path: ["status"] })
  .openapi("ChangeLicence");

const RegisteredLicenceSchema = z
  .object({
    id: z.string(),
    advisorId: z.string(),
    kind: z.enum(LICENCE_KINDS),
    number: z.string(),
    issuer: z.string(),
    validFrom: z.string(),
    validUntil: z.string(),
    verifiedAt: z.string().nullable(),
    /** What the register holds, or `expired` once an active licence is past validUntil. */
    status: z.enum(SHOWN_LICENCE_STATUSES),
  })
  .openapi("RegisteredLicence");

const ImportResultSchema = z
  .object({
    changed: z.number().int(),
    unchanged: z.number().int(),
    /** Rows naming a licence that is not on file (the regulator's register lists other firms' people too). */
    unmatched: z.array(z.object({ line: z.number().int(), kind: z.enum(LICENCE_KINDS), number: z.string() })),
  })
  .openapi("LicenceImportResult");

/** One data row of an import file; validUntil may be left empty to keep the stored one. */
const ImportRowSchema = z.object({
  kind: z
    .string()
    .trim()
    .pipe(z.enum(LICENCE_KINDS, { error: `must be one of ${LICENCE_KINDS.join(", ")}` })),
  number: LicenceNumber,
  status: z
    .string()
    .trim()
    .pipe(z.enum(LICENCE_STATUSES, { error: `must be one of ${LICENCE_STATUSES.join(", ")}` })),
  validUntil: z
    .string()
    .trim()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(Instant.optional())
    .transform((v) => (v === undefined ? undefined : new Date(v))),
});

/** Says what a date must look like, where the schema's own message would only say it is invalid. */
const explainDateTime = (issue: { code?: string; format?: string }) =>
  issue.code === "invalid_format" && issue.format === "datetime"
    ? "must be empty or an ISO 8601 date-time with an offset, e.g. 2027-06-30T00:00:00Z"
    : undefined;

export type RegisteredLicenceView = z.infer<typeof RegisteredLicenceSchema>;

// ---- routes ----------------------------------------------------------------------------------------

const changeRoute = createRoute({
  method: "patch",
  path: "/v1/licences/{kind}/{number}",
  tags: ["licences"],
  summary: "Suspend, revoke, reinstate or re-date one licence (admin); a revoked licence cannot change",
  request: { params: LicenceParams, body: { required: true, content: json(ChangeLicenceBody) } },
  responses: { 200: { description: "the licence as it now stands", content: json(RegisteredLicenceSchema) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const importRoute = createRoute({
  method: "post",
  path: "/v1/licences/import",
  tags: ["licences"],
  summary: "Apply a CSV file (kind,number,status,validUntil) to the licences on file, all rows or none (admin)",
  request: {
    body: {
      required: true,
      content: { "text/csv": { schema: z.string().openapi({ example: "kind,number,status,validUntil\nfund_sales,FS-123456,suspended,\n" }) } },
    },
  },
  responses: { 200: { description: "what the file changed", content: json(ImportResultSchema) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const iso = (d: Date) => d.toISOString();

function licenceView(licence: RegisteredLicence, now: Date): RegisteredLicenceView {
  return {
    ...licence,
    status: shownLicenceStatus(licence, now),
    validFrom: iso(licence.validFrom),
    validUntil: iso(licence.validUntil),
    verifiedAt: licence.verifiedAt ? iso(licence.verifiedAt) : null,
  };
}

/** Problems as error details: one entry per line and field, so the person fixing the file sees them all. */
const problemDetails = (problems: ReadonlyArray<CsvProblem>) =>
  problems.map((p) => ({
    path: p.field ? `line ${p.line}.${p.field}` : `line ${p.line}`,
    line: p.line,
    ...(p.field ? { field: p.field } : {}),
    message: p.message,
  }));

const REFUSAL_MESSAGES: Record<ChangeRefusal, string> = {
  INVALID_STATE: "the licence is revoked; a revoked licence cannot change",
  INVALID_VALIDITY: "validUntil must be after the licence's validFrom",
};

/**
 * Every problem of an import file (CSV syntax, header, each row's fields, a licence listed twice),
 * or its rows. Nothing is applied unless the whole file is sound.
 */
function readImportFile(body: string): { ok: true; rows: ImportRow[] } | { ok: false; problems: CsvProblem[] } {
  const csv = parseCsv(body, { columns: IMPORT_COLUMNS, maxRecords: MAX_IMPORT_ROWS });
  if (!csv.ok) return csv;
  if (!csv.records.length) return { ok: false, problems: [{ line: 2, message: "the file has a header but no rows" }] };
  const problems: CsvProblem[] = [];
  const rows: ImportRow[] = [];
  const lineOf = new Map<string, number>();
  for (const { line, values } of csv.records) {
    const parsed = ImportRowSchema.safeParse(values, { error: explainDateTime });
    if (!parsed.success) {
      // One problem per field: a malformed date also fails the year range, which adds nothing.
      const fields = new Set<string>();
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0]);
        if (!fields.has(field)) problems.push({ line, field, message: issue.message });
        fields.add(field);
      }
      continue;
    }
    const { kind, number, status, validUntil } = parsed.data;
    const key = `${kind}\u0000${number}`;
    const earlier = lineOf.get(key);
    if (earlier !== undefined) {
      problems.push({ line, field: "number", message: `licence ${kind} ${number} is already on line ${earlier}` });
      continue;
    }
    lineOf.set(key, line);
    rows.push({ line, kind, number, status, ...(validUntil ? { validUntil } : {}) });
  }
  return problems.length ? { ok: false, problems } : { ok: true, rows };
}

export function licenceRoutes(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const { engine } = deps.matching;

  /**
   * Makes committed changes effective in matching: re-syncs each advisor (their live profile drops
   * a suspended or revoked licence, so nothing new is offered for it; a reinstated one is served the
   * waiting queue), then withdraws their open offers they are no longer licensed for. The change is
   * committed before this runs and stands if this fails: the licence-expiry job (every minute)
   * finds the same unlicensed offers, re-syncs those advisors and withdraws them, so the withdrawal
   * is late, never lost.
   */
  async function enforce(advisorIds: string[]): Promise<void> {
    if (!advisorIds.length) return;
    await withdrawUnlicensedOffers({ engine, prisma, clock: deps.matching.clock }, { advisorIds, reason: LICENCE_CHANGED_REASON }).catch((error: unknown) =>
      deps.logger.warn(
        { err: error, advisorIds },
        "licence change committed but not yet effective in matching; the licence-expiry job will withdraw the offers",
      ),
    );
  }

  return createRouter()
    .openapi(changeRoute, async (c) => {
      const principal = requireRole(c, "admin");
      const { kind, number } = c.req.valid("param");
      const body = c.req.valid("json");
      const now = new Date(deps.matching.clock.now());
      const result = await changeLicence(prisma, {
        kind,
        number,
        ...(body.status === undefined ? {} : { status: body.status }),
        ...(body.validUntil === undefined ? {} : { validUntil: new Date(body.validUntil) }),
        reason: body.reason,
        actor: principal.sub,
        now,
      });
      if (!result.ok) {
        switch (result.reason) {
          case "NOT_FOUND":
            throw new AppError("NOT_FOUND", `licence ${kind} ${number} not found`);
          case "INVALID_STATE":
            throw new AppError("INVALID_STATE", `licence ${kind} ${number}: ${REFUSAL_MESSAGES.INVALID_STATE}`);
          case "INVALID_VALIDITY":
            throw new AppError("VALIDATION_FAILED", "the request did not match the schema", [
              { path: "validUntil", message: REFUSAL_MESSAGES.INVALID_VALIDITY },
            ]);
        }
      }
      // Also when nothing changed: repeating a change is how an admin re-applies its effect.
      await enforce([result.licence.advisorId]);
      return c.json(licenceView(result.licence, now), 200);
    })
    .openapi(importRoute, async (c) => {
      const principal = requireRole(c, "admin");
      if (mediaTypeOf(c.req.header("content-type")) !== "text/csv") throw new AppError("VALIDATION_FAILED", "send the file with Content-Type: text/csv");
      const file = readImportFile(await c.req.text());
      if (!file.ok)
        throw new AppError("VALIDATION_FAILED", `the file has ${file.problems.length} problem(s); nothing was imported`, problemDetails(file.problems));

      const result = await importLicences(prisma, file.rows, principal.sub, new Date());
      if (!result.ok) {
        const revoked = result.refused.some((r) => r.reason === "INVALID_STATE");
        const details = problemDetails(
          result.refused.map((r) => ({
            line: r.line,
            field: r.reason === "INVALID_STATE" ? "status" : "validUntil",
            message: `licence ${r.kind} ${r.number}: ${REFUSAL_MESSAGES[r.reason]}`,
          })),
        );
        throw new AppError(revoked ? "INVALID_STATE" : "VALIDATION_FAILED", `${result.refused.length} row(s) cannot be applied; nothing was imported`, details);
      }
      await enforce(result.changedAdvisorIds);
      return c.json({ changed: result.changed, unchanged: result.unchanged, unmatched: result.unmatched }, 200);
    });
}

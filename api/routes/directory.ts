/**
 * The directory: branches, advisors (with licences) and clients. Admins manage every branch;
 * managers create and read advisors and clients of their own branch only. Data of another branch
 * answers 404, exactly like data that does not exist.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../core/errors.ts";
import { ID_PREFIXES, isId, type IdKind } from "../../core/ids.ts";
import { createAdvisor, findAdvisor, type AdvisorRecord } from "../../directory/advisors.ts";
import { canonicalTimeZone, createBranch } from "../../directory/branches.ts";
import { shownLicenceStatus, SHOWN_LICENCE_STATUSES } from "../../directory/licenceStatus.ts";
import { createClient, findClient } from "../../directory/clients.ts";
import { LICENCE_KINDS, PRESENCES } from "../../matching/domain/types.ts";
import type { AdvisorState } from "../../matching/store/port.ts";
import { canSeeBranch, requireBranchAccess, requireRole } from "../auth/middleware.ts";
import { createRouter, type AppDeps } from "../context.ts";
import { ADVISOR_PROFILE_FIELDS, ClientSchema } from "../listViews.ts";
import { COMMON_ERRORS, CONFLICT_RESPONSE, idParam, text, LanguageTag, Instant, json } from "../schemas.ts";

// ---- input schemas -------------------------------------------------------------------------------

/** An id of one kind in a body (idParam is for path parameters). */
const idField = (kind: IdKind) =>
  z
    .string()
    .max(80)
    .refine((v) => isId(kind, v), `must be an id starting with ${ID_PREFIXES[kind]}_`);

const Name = text(1, 200);
const Language = LanguageTag;
const IsoDateTime = Instant;

const CreateBranchBody = z
  .object({
    name: Name,
    region: text(1, 64),
    timezone: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .refine((v) => canonicalTimeZone(v) !== null, "must be an IANA time zone such as Europe/London")
      .optional(),
  })
  .strict()
  .openapi("CreateBranch");

const LicenceInput = z
  .object({
    kind: z.enum(LICENCE_KINDS),
    number: text(1, 64),
    validUntil: IsoDateTime,
    validFrom: IsoDateTime.optional(),
    issuer: text(1, 128).optional(),
  })
  .strict();

const CreateAdvisorBody = z
  .object({
    branchId: idField("branch"),
    name: Name,
    languages: z.array(Language).min(1).max(20),
    maxConcurrent: z.number().int().min(1).max(100),
    suitabilityMaxRisk: z.number().int().min(1).max(5),
    licences: z.array(LicenceInput).max(20),
  })
  .strict()
  .superRefine((body, ctx) => {
    const now = Date.now();
    const seen = new Set<string>();
    body.licences.forEach((licence, index) => {
      const from = licence.validFrom ? Date.parse(licence.validFrom) : now;
      if (Date.parse(licence.validUntil) <= from) {
        ctx.addIssue({
          code: "custom",
          path: ["licences", index, "validUntil"],
          message: licence.validFrom ? "must be after validFrom" : "must be in the future when validFrom is omitted",
        });
      }
      const key = `${licence.kind}\u0000${licence.number}`;
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: ["licences", index], message: "the same licence (kind, number) is listed twice" });
      seen.add(key);
    });
  })
  .openapi("CreateAdvisor");

const CreateClientBody = z
  .object({
    branchId: idField("branch"),
    name: Name,
    riskLevel: z.number().int().min(1).max(5),
    language: Language,
    dedicatedAdvisorId: idField("advisor").optional(),
  })
  .strict()
  .openapi("CreateClient");

// ---- output schemas ------------------------------------------------------------------------------

const Created = z.object({ id: z.string() }).openapi("DirectoryCreated");

const LicenceSchema = z
  .object({
    id: z.string(),
    kind: z.enum(LICENCE_KINDS),
    number: z.string(),
    issuer: z.string(),
    validFrom: z.string(),
    validUntil: z.string(),
    verifiedAt: z.string().nullable(),
    /** What the register holds, or `expired` once an active licence is past validUntil. */
    status: z.enum(SHOWN_LICENCE_STATUSES),
  })
  .openapi("Licence");

const AdvisorSchema = z
  .object({
    ...ADVISOR_PROFILE_FIELDS,
    createdAt: z.string(),
    offboardedAt: z.string().nullable(),
    licences: z.array(LicenceSchema),
    /** null when the live matching store does not know the advisor (yet). */
    live: z.object({ presence: z.enum(PRESENCES), heartbeatAt: z.string().nullable(), active: z.number().int(), pendingPush: z.number().int() }).nullable(),
  })
  .openapi("Advisor");

export type AdvisorView = z.infer<typeof AdvisorSchema>;

// ---- routes ----------------------------------------------------------------------------------------

const createBranchRoute = createRoute({
  method: "post",
  path: "/v1/branches",
  tags: ["directory"],
  summary: "Create a branch (admin)",
  request: { body: { required: true, content: json(CreateBranchBody) } },
  responses: { 201: { description: "created", content: json(Created) }, ...COMMON_ERRORS },
});

const createAdvisorRoute = createRoute({
  method: "post",
  path: "/v1/advisors",
  tags: ["directory"],
  summary: "Onboard an advisor with their licences (admin, or the branch's manager)",
  request: { body: { required: true, content: json(CreateAdvisorBody) } },
  responses: { 201: { description: "created", content: json(Created) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const createClientRoute = createRoute({
  method: "post",
  path: "/v1/clients",
  tags: ["directory"],
  summary: "Register a client (admin, or the branch's manager)",
  request: { body: { required: true, content: json(CreateClientBody) } },
  responses: { 201: { description: "created", content: json(Created) }, ...COMMON_ERRORS, ...CONFLICT_RESPONSE },
});

const getAdvisorRoute = createRoute({
  method: "get",
  path: "/v1/advisors/{id}",
  tags: ["directory"],
  summary: "An advisor with licences and live presence (admin, the branch's manager, the advisor)",
  request: { params: z.object({ id: idParam("advisor") }) },
  responses: { 200: { description: "the advisor", content: json(AdvisorSchema) }, ...COMMON_ERRORS },
});

const getClientRoute = createRoute({
  method: "get",
  path: "/v1/clients/{id}",
  tags: ["directory"],
  summary: "A client (admin, the branch's manager, the client)",
  request: { params: z.object({ id: idParam("client") }) },
  responses: { 200: { description: "the client", content: json(ClientSchema) }, ...COMMON_ERRORS },
});

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

function advisorView(advisor: AdvisorRecord, live: AdvisorState | null, now: Date): AdvisorView {
  return {
    id: advisor.id,
    branchId: advisor.branchId,
    name: advisor.name,
    status: advisor.status,
    maxConcurrent: advisor.maxConcurrent,
    languages: advisor.languages,
    suitabilityMaxRisk: advisor.suitabilityMaxRisk,
    createdAt: iso(advisor.createdAt),
    offboardedAt: isoOrNull(advisor.offboardedAt),
    licences: advisor.licences.map((l) => ({
      ...l,
      status: shownLicenceStatus(l, now),
      validFrom: iso(l.validFrom),
      validUntil: iso(l.validUntil),
      verifiedAt: isoOrNull(l.verifiedAt),
    })),
    live: live
      ? {
          presence: live.supply.presence,
          // 0 is the store's "never"; show it as no heartbeat rather than 1970.
          heartbeatAt: live.supply.heartbeatAt > 0 ? new Date(live.supply.heartbeatAt).toISOString() : null,
          active: live.supply.active,
          pendingPush: live.supply.pendingPush,
        }
      : null,
  };
}

/** Branches: create (admin). */
function branchDirectory(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  return createRouter().openapi(createBranchRoute, async (c) => {
    const principal = requireRole(c, "admin");
    const body = c.req.valid("json");
    const { id } = await createBranch(prisma, {
      actor: principal.sub,
      name: body.name,
      region: body.region,
      // Stored canonical ("europe/london" → "Europe/London") so every reader can use it as is.
      timezone: body.timezone === undefined ? "UTC" : canonicalTimeZone(body.timezone)!,
    });
    return c.json({ id }, 201);
  });
}

/** Advisors: register (admin), read (admin, their manager, themselves). */
function advisorDirectory(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  const { engine, store } = deps.matching;
  return createRouter()
    .openapi(createAdvisorRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      const body = c.req.valid("json");
      // Managers write only into their own branch; the id came from the caller, so 403 reveals nothing.
      requireBranchAccess(principal, body.branchId);
      const result = await createAdvisor(prisma, {
        actor: principal.sub,
        branchId: body.branchId,
        name: body.name,
        languages: [...new Set(body.languages)],
        maxConcurrent: body.maxConcurrent,
        suitabilityMaxRisk: body.suitabilityMaxRisk,
        licences: body.licences.map((l) => ({
          kind: l.kind,
          number: l.number,
          validUntil: new Date(l.validUntil),
          ...(l.validFrom === undefined ? {} : { validFrom: new Date(l.validFrom) }),
          ...(l.issuer === undefined ? {} : { issuer: l.issuer }),
        })),
      });
      if (!result.ok) {
        switch (result.reason) {
          case "UNKNOWN_BRANCH":
            throw new AppError("NOT_FOUND", `branch ${body.branchId} not found`);
          case "INVALID_VALIDITY":
            throw new AppError("VALIDATION_FAILED", "the request did not match the schema", [
              { path: `licences.${result.index}.validUntil`, message: "must be after validFrom" },
            ]);
          case "LICENCE_TAKEN":
            throw new AppError(
              "CONFLICT",
              result.kind ? `licence ${result.kind} ${result.number} is already registered` : "one of these licences is already registered",
            );
        }
      }
      // The row is committed and is the system of record; if the live store cannot be told now, the
      // advisor is loaded on their first presence call (and on every rebuild), so the create stands.
      await engine
        .syncAdvisor(result.id)
        .catch((error: unknown) => deps.logger.warn({ err: error, advisorId: result.id }, "new advisor not yet in the live matching store"));
      return c.json({ id: result.id }, 201);
    })
    .openapi(getAdvisorRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager", "advisor");
      const id = c.req.valid("param").id;
      const advisor = await findAdvisor(prisma, id);
      const visible = advisor && (principal.role === "advisor" ? principal.sub === advisor.id : canSeeBranch(principal, advisor.branchId));
      if (!advisor || !visible) throw new AppError("NOT_FOUND", `advisor ${id} not found`);
      return c.json(advisorView(advisor, await store.getAdvisor(id), new Date(deps.matching.clock.now())), 200);
    });
}

/** Clients: register (admin), read. */
function clientDirectory(deps: AppDeps) {
  const prisma = deps.backends.database.prisma;
  return createRouter()
    .openapi(createClientRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager");
      const body = c.req.valid("json");
      // Managers write only into their own branch; the id came from the caller, so 403 reveals nothing.
      requireBranchAccess(principal, body.branchId);
      const result = await createClient(prisma, {
        actor: principal.sub,
        branchId: body.branchId,
        name: body.name,
        riskLevel: body.riskLevel,
        language: body.language,
        ...(body.dedicatedAdvisorId === undefined ? {} : { dedicatedAdvisorId: body.dedicatedAdvisorId }),
      });
      if (!result.ok) {
        const advisorId = body.dedicatedAdvisorId;
        switch (result.reason) {
          case "UNKNOWN_BRANCH":
            throw new AppError("NOT_FOUND", `branch ${body.branchId} not found`);
          case "UNKNOWN_ADVISOR":
            throw new AppError("NOT_FOUND", `dedicated advisor ${advisorId} not found`);
          case "ADVISOR_OTHER_BRANCH":
            // A manager must not learn that an advisor of another branch exists.
            if (!canSeeBranch(principal, result.advisorBranchId)) throw new AppError("NOT_FOUND", `dedicated advisor ${advisorId} not found`);
            throw new AppError(
              "CONFLICT",
              `dedicated advisor ${advisorId} works in branch ${result.advisorBranchId}, not in the client's branch ${body.branchId}`,
            );
          case "ADVISOR_NOT_ACTIVE":
            throw new AppError("CONFLICT", `dedicated advisor ${advisorId} is ${result.status}; only an active advisor can be dedicated`);
        }
      }
      return c.json({ id: result.id }, 201);
    })
    .openapi(getClientRoute, async (c) => {
      const principal = requireRole(c, "admin", "manager", "client");
      const id = c.req.valid("param").id;
      const client = await findClient(prisma, id);
      const visible = client && (principal.role === "client" ? principal.sub === client.id : canSeeBranch(principal, client.branchId));
      if (!client || !visible) throw new AppError("NOT_FOUND", `client ${id} not found`);
      return c.json({ ...client, createdAt: iso(client.createdAt) }, 200);
    });
}

export function directoryRoutes(deps: AppDeps) {
  return createRouter().route("/", branchDirectory(deps)).route("/", advisorDirectory(deps)).route("/", clientDirectory(deps));
}

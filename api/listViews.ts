/**
 * Response schemas and views shared by the list routes (api/routes/branches.ts, api/routes/me.ts):
 * a request's summary, an advisor with licences and live state. Times are ISO strings; a licence
 * shows `expired` once past validUntil (directory/licenceStatus.ts).
 */
import { z } from "@hono/zod-openapi";
import type { ListedAdvisor } from "../directory/advisorListing.ts";
import { SHOWN_LICENCE_STATUSES, shownLicenceStatus } from "../directory/licenceStatus.ts";
import { FUNNEL_POOLS } from "../matching/domain/policy.ts";
import { CHANNELS, LICENCE_KINDS, PRESENCES } from "../matching/domain/types.ts";
import { REQUEST_STATUSES, type RequestSummary } from "../matching/records/requestHistory.ts";
import { pageSchema } from "./pagination.ts";

const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export const LicenceSummarySchema = z
  .object({
    id: z.string(),
    kind: z.enum(LICENCE_KINDS),
    number: z.string(),
    issuer: z.string(),
    validFrom: z.string(),
    validUntil: z.string(),
    status: z.enum(SHOWN_LICENCE_STATUSES),
  })
  .openapi("LicenceSummary");

export const AdvisorLiveSchema = z
  .object({
    presence: z.enum(PRESENCES),
    /** Assignments in progress. */
    active: z.number().int(),
    /** maxConcurrent. */
    capacity: z.number().int(),
    rating: z.number().nullable(),
    responsiveness: z.number().min(0).max(1).nullable(),
  })
  .openapi("AdvisorLive");

/** An advisor's directory profile: the fields GET /v1/advisors/{id} and the branch's list share. */
export const ADVISOR_PROFILE_FIELDS = {
  id: z.string(),
  branchId: z.string(),
  name: z.string(),
  status: z.enum(["active", "suspended", "offboarded"]),
  maxConcurrent: z.number().int(),
  languages: z.array(z.string()),
  suitabilityMaxRisk: z.number().int(),
};

export const ListedAdvisorSchema = z
  .object({
    ...ADVISOR_PROFILE_FIELDS,
    licences: z.array(LicenceSummarySchema),
    live: AdvisorLiveSchema,
  })
  .openapi("ListedAdvisor");

export const RequestSummarySchema = z
  .object({
    id: z.string(),
    clientId: z.string(),
    branchId: z.string(),
    status: z.enum(REQUEST_STATUSES),
    /** null: past every funnel stage, waiting in (or ended from) the queue. */
    stage: z.enum(FUNNEL_POOLS).nullable(),
    topic: z.string(),
    requiredLicence: z.enum(LICENCE_KINDS),
    channel: z.enum(CHANNELS),
    mode: z.enum(["dispatch", "grab", "auto"]),
    priority: z.number().int(),
    assignedAdvisorId: z.string().nullable(),
    callbackRequested: z.boolean(),
    createdAt: z.string(),
    offeredAt: z.string().nullable(),
    assignedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    cancelledAt: z.string().nullable(),
    expiredAt: z.string().nullable(),
  })
  .openapi("RequestSummary");

/** One page of request summaries: every request list answers this. */
export const RequestSummaryPageSchema = pageSchema(RequestSummarySchema, "RequestSummaryPage");

export type ListedAdvisorView = z.infer<typeof ListedAdvisorSchema>;
export type RequestSummaryView = z.infer<typeof RequestSummarySchema>;

/** `?status=` of the request lists. */
export const RequestStatusQuery = z
  .enum(REQUEST_STATUSES)
  .optional()
  .openapi({ param: { name: "status", in: "query" } });

export function listedAdvisorView(advisor: ListedAdvisor, now: Date): ListedAdvisorView {
  return {
    id: advisor.id,
    branchId: advisor.branchId,
    name: advisor.name,
    status: advisor.status,
    maxConcurrent: advisor.maxConcurrent,
    languages: advisor.languages,
    suitabilityMaxRisk: advisor.suitabilityMaxRisk,
    licences: advisor.licences.map((l) => ({
      id: l.id,
      kind: l.kind,
      number: l.number,
      issuer: l.issuer,
      validFrom: l.validFrom.toISOString(),
      validUntil: l.validUntil.toISOString(),
      status: shownLicenceStatus(l, now),
    })),
    live: advisor.live,
  };
}

export function requestSummaryView(r: RequestSummary): RequestSummaryView {
  return {
    id: r.id,
    clientId: r.clientId,
    branchId: r.branchId,
    status: r.status,
    stage: r.stage,
    topic: r.topic,
    requiredLicence: r.requiredLicence,
    channel: r.channel,
    mode: r.mode,
    priority: r.priority,
    assignedAdvisorId: r.assignedAdvisorId,
    callbackRequested: r.callbackRequested,
    createdAt: r.createdAt.toISOString(),
    offeredAt: isoOrNull(r.offeredAt),
    assignedAt: isoOrNull(r.assignedAt),
    completedAt: isoOrNull(r.completedAt),
    cancelledAt: isoOrNull(r.cancelledAt),
    expiredAt: isoOrNull(r.expiredAt),
  };
}

/** A client as the directory holds them: one schema for GET /v1/clients/{id} and the branch's list. */
export const ClientSchema = z
  .object({
    id: z.string(),
    branchId: z.string(),
    name: z.string(),
    riskLevel: z.number().int(),
    language: z.string(),
    dedicatedAdvisorId: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Client");

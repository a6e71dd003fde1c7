/**
 * Advisors and their licences in the directory (PostgreSQL). The live matching store learns about an
 * advisor from here (MatchingEngine.syncAdvisor), so this module only writes the system of record.
 */
import { isUniqueViolation } from "../platform/databaseErrors.ts";
import { recordAction } from "../compliance/audit/actions.ts";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { newId } from "../core/ids.ts";
import type { LicenceKind } from "../matching/domain/types.ts";
import { branchExists } from "./branches.ts";

export interface NewLicence {
  kind: LicenceKind;
  number: string;
  /** Defaults to "unspecified": the column is required, the regulator is not always known at onboarding. */
  issuer?: string;
  /** Defaults to the moment of creation. */
  validFrom?: Date;
  validUntil: Date;
}

export interface NewAdvisor {
  /** Who creates them (recorded in the audit). */
  actor: string;
  branchId: string;
  name: string;
  languages: string[];
  maxConcurrent: number;
  suitabilityMaxRisk: number;
  licences: NewLicence[];
}

export type CreateAdvisorResult =
  | { ok: true; id: string }
  | { ok: false; reason: "UNKNOWN_BRANCH" }
  | { ok: false; reason: "INVALID_VALIDITY"; index: number }
  | { ok: false; reason: "LICENCE_TAKEN"; kind?: LicenceKind; number?: string };

const UNSPECIFIED_ISSUER = "unspecified";

/**
 * Creates the advisor with all their licences, or nothing. A licence (kind, number) already on file
 * (for anyone) is refused: a licence number identifies one person at the regulator.
 */
export async function createAdvisor(prisma: PrismaClient, input: NewAdvisor, now: Date = new Date()): Promise<CreateAdvisorResult> {
  const licences = input.licences.map((l) => ({
    id: newId("licence", now.getTime()),
    kind: l.kind,
    number: l.number,
    issuer: l.issuer ?? UNSPECIFIED_ISSUER,
    validFrom: l.validFrom ?? now,
    validUntil: l.validUntil,
  }));
  // The route checks validity windows, but a defaulted validFrom is only known here; answering with
  // a value beats tripping the CHECK constraint as a 500.
  const inverted = licences.findIndex((l) => l.validFrom.getTime() >= l.validUntil.getTime());
  if (inverted !== -1) return { ok: false, reason: "INVALID_VALIDITY", index: inverted };

  const id = newId("advisor", now.getTime());
  try {
    return await prisma.$transaction(async (tx): Promise<CreateAdvisorResult> => {
      if (!(await branchExists(tx, input.branchId))) return { ok: false, reason: "UNKNOWN_BRANCH" };
      // Looked up first only to name the clashing licence; the unique index is what decides under
      // concurrent creates (caught below).
      const taken = await tx.licence.findFirst({
        where: { OR: licences.map((l) => ({ kind: l.kind, number: l.number })) },
        select: { kind: true, number: true },
      });
      if (taken) return { ok: false, reason: "LICENCE_TAKEN", kind: taken.kind, number: taken.number };
      await tx.advisor.create({
        data: {
          id,
          branchId: input.branchId,
          name: input.name,
          languages: input.languages,
          maxConcurrent: input.maxConcurrent,
          suitabilityMaxRisk: input.suitabilityMaxRisk,
          createdAt: now,
          licences: { create: licences.map((l) => ({ ...l, createdAt: now })) },
        },
      });
      await recordAction(tx, {
        type: "advisor.created",
        actor: input.actor,
        at: now,
        branchId: input.branchId,
        advisorId: id,
        data: {
          advisorId: id,
          name: input.name,
          languages: input.languages,
          maxConcurrent: input.maxConcurrent,
          suitabilityMaxRisk: input.suitabilityMaxRisk,
          licences: licences.map((l) => ({
            licenceId: l.id,
            kind: l.kind,
            number: l.number,
            issuer: l.issuer,
            validFrom: l.validFrom.toISOString(),
            validUntil: l.validUntil.toISOString(),
          })),
        },
      });
      return { ok: true, id };
    });
  } catch (error) {
    if (isUniqueViolation(error)) return { ok: false, reason: "LICENCE_TAKEN" };
    throw error;
  }
}

export interface LicenceRecord {
  id: string;
  kind: LicenceKind;
  number: string;
  issuer: string;
  validFrom: Date;
  validUntil: Date;
  verifiedAt: Date | null;
  status: "active" | "suspended" | "revoked";
}

export interface AdvisorRecord {
  id: string;
  branchId: string;
  name: string;
  status: "active" | "suspended" | "offboarded";
  maxConcurrent: number;
  languages: string[];
  suitabilityMaxRisk: number;
  createdAt: Date;
  offboardedAt: Date | null;
  licences: LicenceRecord[];
}

export const ADVISOR_SELECT = {
  id: true,
  branchId: true,
  name: true,
  status: true,
  maxConcurrent: true,
  languages: true,
  suitabilityMaxRisk: true,
  createdAt: true,
  offboardedAt: true,
  licences: {
    select: { id: true, kind: true, number: true, issuer: true, validFrom: true, validUntil: true, verifiedAt: true, status: true },
    orderBy: [{ kind: "asc" }, { validUntil: "desc" }],
  },
} as const satisfies Prisma.AdvisorSelect;

export async function findAdvisor(prisma: PrismaClient, advisorId: string): Promise<AdvisorRecord | null> {
  return prisma.advisor.findUnique({ where: { id: advisorId }, select: ADVISOR_SELECT });
}

/** Active advisors of a branch holding a licence of this kind that is valid at `at`. */
export async function licensedAdvisorIds(
  prisma: Pick<PrismaClient, "advisor">,
  query: { branchId: string; licence: LicenceKind; at: Date },
): Promise<string[]> {
  const { branchId, licence, at } = query;
  const rows = await prisma.advisor.findMany({
    where: { branchId, status: "active", licences: { some: { kind: licence, status: "active", validFrom: { lte: at }, validUntil: { gt: at } } } },
    select: { id: true },
  });
  return rows.map((row) => row.id);
}

/** True when the firm has offboarded this advisor (an unknown id is not offboarded). */
export async function isAdvisorOffboarded(prisma: Pick<PrismaClient, "advisor">, advisorId: string): Promise<boolean> {
  const advisor = await prisma.advisor.findUnique({ where: { id: advisorId }, select: { status: true } });
  return advisor?.status === "offboarded";
}

/** Every advisor of a branch with their licences, oldest first. */
export async function listBranchAdvisors(prisma: PrismaClient, branchId: string): Promise<AdvisorRecord[]> {
  return prisma.advisor.findMany({ where: { branchId }, select: ADVISOR_SELECT, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}

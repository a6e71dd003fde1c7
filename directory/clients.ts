/** Clients in the directory: who they are, their risk level, and optionally their dedicated advisor. */
import { recordAction } from "../compliance/audit/actions.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { newId } from "../core/ids.ts";
import { branchExists } from "./branches.ts";

export interface NewClient {
  /** Who creates them (recorded in the audit). */
  actor: string;
  branchId: string;
  name: string;
  riskLevel: number;
  language: string;
  dedicatedAdvisorId?: string;
}

export type CreateClientResult =
  | { ok: true; id: string }
  | { ok: false; reason: "UNKNOWN_BRANCH" }
  | { ok: false; reason: "UNKNOWN_ADVISOR" }
  | { ok: false; reason: "ADVISOR_OTHER_BRANCH"; advisorBranchId: string }
  | { ok: false; reason: "ADVISOR_NOT_ACTIVE"; status: string };

/**
 * Creates the client. A dedicated advisor must exist, be active and work in the client's branch;
 * the advisor row is share-locked until the client commits, so an offboarding running at the same
 * moment cannot slip between the check and the insert.
 */
export async function createClient(prisma: PrismaClient, input: NewClient, now: Date = new Date()): Promise<CreateClientResult> {
  const id = newId("client", now.getTime());
  return prisma.$transaction(async (tx): Promise<CreateClientResult> => {
    if (!(await branchExists(tx, input.branchId))) return { ok: false, reason: "UNKNOWN_BRANCH" };
    if (input.dedicatedAdvisorId !== undefined) {
      const [advisor] = await tx.$queryRaw<Array<{ branchId: string; status: string }>>`
        SELECT "branchId", status::text AS status FROM "Advisor" WHERE id = ${input.dedicatedAdvisorId} FOR SHARE`;
      if (!advisor) return { ok: false, reason: "UNKNOWN_ADVISOR" };
      if (advisor.branchId !== input.branchId) return { ok: false, reason: "ADVISOR_OTHER_BRANCH", advisorBranchId: advisor.branchId };
      if (advisor.status !== "active") return { ok: false, reason: "ADVISOR_NOT_ACTIVE", status: advisor.status };
    }
    await tx.client.create({
      data: {
        id,
        branchId: input.branchId,
        name: input.name,
        riskLevel: input.riskLevel,
        language: input.language,
        dedicatedAdvisorId: input.dedicatedAdvisorId ?? null,
        createdAt: now,
      },
    });
    await recordAction(tx, {
      type: "client.created",
      actor: input.actor,
      at: now,
      branchId: input.branchId,
      data: { clientId: id, riskLevel: input.riskLevel, language: input.language, dedicatedAdvisorId: input.dedicatedAdvisorId ?? null },
    });
    return { ok: true, id };
  });
}

export interface ClientRecord {
  id: string;
  branchId: string;
  name: string;
  riskLevel: number;
  language: string;
  dedicatedAdvisorId: string | null;
  createdAt: Date;
}

export async function findClient(prisma: PrismaClient, clientId: string): Promise<ClientRecord | null> {
  return prisma.client.findUnique({
    where: { id: clientId },
    select: { id: true, branchId: true, name: true, riskLevel: true, language: true, dedicatedAdvisorId: true, createdAt: true },
  });
}

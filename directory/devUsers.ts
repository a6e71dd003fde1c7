/**
 * People to sign in as on a development server (DEV_AUTH): a manager per branch, a few of each
 * branch's advisors and clients from the directory, and a compliance officer and an administrator.
 * Managers, compliance and admin have no rows of their own (tokens name them), so their subjects are
 * synthetic but stable: the manager of brn_demo_central is mgr_demo_central.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";

export type DevUserRole = "client" | "advisor" | "manager" | "compliance" | "admin";

export interface DevUser {
  id: string;
  role: DevUserRole;
  branchId: string | null;
  name: string;
}

/** Enough branches for any demo, few enough that the sign-in list stays one screen. */
const MAX_BRANCHES = 20;

/** The manager's subject for a branch: its id with the branch prefix swapped for mgr_. */
export const managerSubject = (branchId: string) => `mgr_${branchId.replace(/^brn_/, "")}`;

export async function listDevUsers(prisma: Pick<PrismaClient, "branch" | "advisor" | "client">, options: { perBranch?: number } = {}): Promise<DevUser[]> {
  const perBranch = options.perBranch ?? 3;
  const branches = await prisma.branch.findMany({ orderBy: { id: "asc" }, take: MAX_BRANCHES, select: { id: true, name: true } });
  const perBranchUsers = await Promise.all(
    branches.map(async (branch) => {
      const [advisors, clients] = await Promise.all([
        prisma.advisor.findMany({
          where: { branchId: branch.id, status: "active" },
          orderBy: { id: "asc" },
          take: perBranch,
          select: { id: true, name: true },
        }),
        prisma.client.findMany({ where: { branchId: branch.id }, orderBy: { id: "asc" }, take: perBranch, select: { id: true, name: true } }),
      ]);
      return [
        { id: managerSubject(branch.id), role: "manager" as const, branchId: branch.id, name: `${branch.name} manager` },
        ...advisors.map((a) => ({ id: a.id, role: "advisor" as const, branchId: branch.id, name: a.name })),
        ...clients.map((c) => ({ id: c.id, role: "client" as const, branchId: branch.id, name: c.name })),
      ];
    }),
  );
  return [
    ...perBranchUsers.flat(),
    { id: "cmp_demo", role: "compliance", branchId: null, name: "Compliance officer" },
    { id: "adm_demo", role: "admin", branchId: null, name: "Administrator" },
  ];
}

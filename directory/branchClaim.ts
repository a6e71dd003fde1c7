/**
 * Whether a token's branch claim matches the directory: the branch exists, and an advisor on file
 * belongs to it. Minting a dev token checks this, so a token cannot place an advisor in a branch
 * they are not in (their manager's scope, their branch's queue and policy would all be wrong).
 * A subject not yet on file (an advisor about to be registered) is not refused: nothing it could
 * reach is scoped to it until it exists, and then its directory branch is the one that counts.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { branchExists } from "./branches.ts";

export type BranchClaimCheck = { ok: true } | { ok: false; reason: "NO_SUCH_BRANCH" } | { ok: false; reason: "OTHER_BRANCH"; branchId: string };

export async function checkBranchClaim(
  prisma: Pick<PrismaClient, "branch" | "advisor">,
  claim: { role: string; sub: string; branchId: string },
): Promise<BranchClaimCheck> {
  if (claim.role === "advisor") {
    const advisor = await prisma.advisor.findUnique({ where: { id: claim.sub }, select: { branchId: true } });
    if (advisor) return advisor.branchId === claim.branchId ? { ok: true } : { ok: false, reason: "OTHER_BRANCH", branchId: advisor.branchId };
  }
  return (await branchExists(prisma, claim.branchId)) ? { ok: true } : { ok: false, reason: "NO_SUCH_BRANCH" };
}

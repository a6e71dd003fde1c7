/** The offboarded-advisor check's short memory: one directory read per advisor per TTL, forgotten on revocation. */
import { describe, expect, it } from "vitest";
import { createAdvisorStanding, STANDING_TTL_MS } from "../../api/auth/standing.ts";
import { isAdvisorOffboarded } from "../../directory/advisors.ts";

function fakeDirectory() {
  const status = new Map<string, string>();
  let reads = 0;
  const prisma = {
    advisor: {
      findUnique: async ({ where }: { where: { id: string } }) => {
        reads++;
        return status.has(where.id) ? { status: status.get(where.id) } : null;
      },
    },
  };
  return { prisma: prisma as never, status, reads: () => reads };
}

describe("advisor standing", () => {
  it("reads the directory once per advisor per TTL, and at once after a revocation", async () => {
    const dir = fakeDirectory();
    const now = 1_000_000;
    const standing = createAdvisorStanding((advisorId) => isAdvisorOffboarded(dir.prisma, advisorId), { now: () => now });
    const advisor = { sub: "adv_1", role: "advisor" as const, branchId: "brn_1" };
    dir.status.set("adv_1", "active");
    expect(await standing.isOffboarded(advisor)).toBe(false);
    expect(await standing.isOffboarded(advisor)).toBe(false);
    expect(dir.reads()).toBe(1);
    // Offboarded elsewhere: the revocation broadcast makes this process read again.
    dir.status.set("adv_1", "offboarded");
    standing.forget(["adv_1"]);
    expect(await standing.isOffboarded(advisor)).toBe(true);
    expect(await standing.isOffboarded(advisor)).toBe(true);
    expect(dir.reads()).toBe(3);
  });

  it("trusts a good standing no longer than the TTL, and never caches for other roles", async () => {
    const dir = fakeDirectory();
    let now = 0;
    const standing = createAdvisorStanding((advisorId) => isAdvisorOffboarded(dir.prisma, advisorId), { now: () => now });
    dir.status.set("adv_2", "active");
    const advisor = { sub: "adv_2", role: "advisor" as const, branchId: "brn_1" };
    expect(await standing.isOffboarded(advisor)).toBe(false);
    dir.status.set("adv_2", "offboarded");
    now += STANDING_TTL_MS - 1;
    expect(await standing.isOffboarded(advisor)).toBe(false);
    now += 1;
    expect(await standing.isOffboarded(advisor)).toBe(true);
    expect(await standing.isOffboarded({ sub: "cli_1", role: "client" })).toBe(false);
    expect(dir.reads()).toBe(2);
  });
});

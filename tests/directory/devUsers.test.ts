/**
 * GET /v1/dev/users (DEV_AUTH): the sign-in list of the console. Each listed user can be minted a
 * token by the dev token route, and a listed manager's token opens their own branch's policy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import { seedDemo, DEMO_COUNTS } from "../../prisma/seed/demo.ts";
import { openTestDeps, type TestDeps } from "../support/testApp.ts";

describe("dev users", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    t = await openTestDeps("adx-devusers-");
    await seedDemo(t.deps.backends.database.prisma);
    // The whole app: the dev routes are reachable without a token only through its auth rule.
    expect(t.deps.config.devAuth).toBe(true);
    app = createApp(t.deps);
  });
  afterAll(async () => t?.close());

  const list = async () =>
    ((await (await app.request("/v1/dev/users")).json()) as { items: Array<{ id: string; role: string; branchId: string | null; name: string }> }).items;

  it("lists a manager per branch, a few advisors and clients of each, compliance and admin", async () => {
    const users = await list();
    const managers = users.filter((u) => u.role === "manager");
    expect(managers).toHaveLength(DEMO_COUNTS.branches);
    expect(managers).toContainEqual({ id: "mgr_demo_central", role: "manager", branchId: "brn_demo_central", name: "Central manager" });
    for (const role of ["advisor", "client"]) expect(users.filter((u) => u.role === role)).toHaveLength(3 * DEMO_COUNTS.branches);
    expect(users.filter((u) => u.role === "compliance" || u.role === "admin").map((u) => u.branchId)).toEqual([null, null]);
  });

  it("names people the dev token route accepts, with the branch their token needs", async () => {
    for (const user of await list()) {
      const minted = await app.request("/v1/dev/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: user.id, role: user.role, ...(user.branchId ? { branchId: user.branchId } : {}) }),
      });
      expect(minted.status, user.id).toBe(200);
    }
    const manager = (await list()).find((u) => u.id === "mgr_demo_central")!;
    const { token } = (await (
      await app.request("/v1/dev/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: manager.id, role: manager.role, branchId: manager.branchId }),
      })
    ).json()) as { token: string };
    const own = await app.request("/v1/branches/brn_demo_central/dispatch-policy", { headers: { authorization: `Bearer ${token}` } });
    const other = await app.request("/v1/branches/brn_demo_bay/dispatch-policy", { headers: { authorization: `Bearer ${token}` } });
    expect([own.status, other.status]).toEqual([200, 403]);
  });
});

/**
 * verifyToken keeps tokens it verified (api/auth/principal.ts): a cached token must still stop
 * working when it expires, a token differing in any character is verified afresh, and a cache per
 * rules means another secret never sees a token verified under this one.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { issueToken, verifyToken, type TokenRules } from "../../../api/auth/principal.ts";

const rules = (secret = "s".repeat(32)): TokenRules => ({ secret, maxTtlSeconds: 12 * 3600 });

describe("verifyToken's cache of verified tokens", () => {
  afterEach(() => vi.useRealTimers());

  it("answers a repeated token with the same principal, and nothing but sub, role and branchId", async () => {
    const r = rules();
    const token = await issueToken({ sub: "adv_1", role: "advisor", branchId: "brn_1" }, r.secret, 600);
    const first = await verifyToken(token, r);
    const again = await verifyToken(token, r);
    expect(first).toEqual({ sub: "adv_1", role: "advisor", branchId: "brn_1" });
    expect(again).toEqual(first);
    // A copy each time: a caller changing its principal changes nobody else's.
    again!.role = "admin";
    expect(await verifyToken(token, r)).toEqual(first);
  });

  it("refuses a cached token once it has expired", async () => {
    vi.useFakeTimers({ now: new Date("2026-12-06T08:00:00Z"), toFake: ["Date"] });
    const r = rules();
    const token = await issueToken({ sub: "cli_1", role: "client" }, r.secret, 60);
    expect(await verifyToken(token, r)).toEqual({ sub: "cli_1", role: "client" });
    vi.setSystemTime(new Date("2026-12-06T08:00:59Z"));
    expect(await verifyToken(token, r)).not.toBeNull();
    vi.setSystemTime(new Date("2026-12-06T08:01:00Z"));
    expect(await verifyToken(token, r)).toBeNull();
    expect(await verifyToken(token, r)).toBeNull();
  });

  it("verifies a token under other rules, or with a changed signature, afresh", async () => {
    const r = rules();
    const token = await issueToken({ sub: "adm_1", role: "admin" }, r.secret, 600);
    expect(await verifyToken(token, r)).not.toBeNull();
    expect(await verifyToken(token, rules("t".repeat(32)))).toBeNull();
    const [h, p, s] = token.split(".");
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith("AA") ? "BB" : "AA"}`;
    expect(await verifyToken(flipped, r)).toBeNull();
  });
});

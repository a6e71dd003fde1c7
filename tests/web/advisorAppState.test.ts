/**
 * The advisor app's state, without a browser. Its offer cards (web/src/apps/advisor/offers.ts): an offer delivered twice is one
 * card; a re-read after a reconnect adds what was missed and ends what is gone, but not an offer newer
 * than the read; the server's reason for a withdrawal corrects one guessed from a refused accept; a
 * withdrawn card stays for WITHDRAWN_VISIBLE_MS, and an offer long past its expiry ends by itself.
 * Its figures (figures.ts): today's points are the posted awards of the local day.
 */
import { describe, expect, it } from "vitest";
import { pointsToday } from "../../web/src/apps/advisor/figures.ts";
import { EXPIRY_GRACE_MS, nextTickAt, offersReducer, type ShownOffer, WITHDRAWN_VISIBLE_MS } from "../../web/src/apps/advisor/offers.ts";
import type { Offer } from "../../web/src/apps/advisor/types.ts";

const T0 = Date.parse("2026-03-02T10:00:00Z");
const offer = (n: number, expiresInMs = 60_000): Offer => ({
  offerId: `off_${n}`,
  requestId: `req_${n}`,
  kind: "push",
  expiresAt: new Date(T0 + expiresInMs).toISOString(),
  topic: `topic ${n}`,
  requiredLicence: "fund_sales",
  channel: "chat",
});
const ids = (offers: ShownOffer[]) => offers.map((o) => o.offerId);

describe("advisor app offers", () => {
  it("keeps one card for an offer delivered twice, soonest expiry first", () => {
    let state = offersReducer([], { type: "received", offer: offer(1, 50_000), at: T0 });
    state = offersReducer(state, { type: "received", offer: offer(2, 10_000), at: T0 });
    const again = offersReducer(state, { type: "received", offer: offer(1, 50_000), at: T0 + 5 });
    expect(again).toBe(state);
    expect(ids(state)).toEqual(["off_2", "off_1"]);
  });

  it("re-reads: adds the offers missed, ends the ones gone, and leaves one newer than the read alone", () => {
    let state = offersReducer([], { type: "received", offer: offer(1), at: T0 });
    state = offersReducer(state, { type: "received", offer: offer(2), at: T0 + 200 });
    // The read started at T0 + 100: offer 2 arrived after it, so its absence means nothing.
    state = offersReducer(state, { type: "synced", offers: [offer(3)], startedAt: T0 + 100, at: T0 + 300 });
    expect(state.map((o) => [o.offerId, o.withdrawn?.reason ?? null])).toEqual([
      ["off_1", "gone"],
      ["off_2", null],
      ["off_3", null],
    ]);
  });

  it("lets the server's reason correct a guessed one, but not the other way round", () => {
    let state = offersReducer([], { type: "received", offer: offer(1), at: T0 });
    state = offersReducer(state, { type: "withdrawn", offerId: "off_1", reason: "timed_out", at: T0 + 10, inferred: true });
    state = offersReducer(state, { type: "withdrawn", offerId: "off_1", reason: "lost_race", at: T0 + 20 });
    expect(state[0]!.withdrawn).toEqual({ reason: "lost_race", at: T0 + 10, inferred: false });
    state = offersReducer(state, { type: "withdrawn", offerId: "off_1", reason: "timed_out", at: T0 + 30, inferred: true });
    expect(state[0]!.withdrawn?.reason).toBe("lost_race");
  });

  it("keeps a withdrawn card for WITHDRAWN_VISIBLE_MS, and ends an offer EXPIRY_GRACE_MS past its expiry", () => {
    let state = offersReducer([], { type: "received", offer: offer(1), at: T0 });
    state = offersReducer(state, { type: "received", offer: offer(2, 2_000), at: T0 });
    state = offersReducer(state, { type: "withdrawn", offerId: "off_1", reason: "lost_race", at: T0 });
    expect(nextTickAt(state)).toBe(T0 + 2_000 + EXPIRY_GRACE_MS);
    state = offersReducer(state, { type: "tick", now: T0 + 2_000 + EXPIRY_GRACE_MS });
    expect(state.map((o) => [o.offerId, o.withdrawn?.reason])).toEqual([
      ["off_2", "timed_out"],
      ["off_1", "lost_race"],
    ]);
    state = offersReducer(state, { type: "tick", now: T0 + WITHDRAWN_VISIBLE_MS });
    expect(ids(state)).toEqual(["off_2"]);
    expect(offersReducer(state, { type: "tick", now: T0 + WITHDRAWN_VISIBLE_MS })).toBe(state);
  });

  it("counts today's points from the posted awards of the local day only", () => {
    const award = (at: Date, points: number, status = "posted") => ({ at: at.toISOString(), ruleId: "r", points, status, reason: null, eventId: "e" });
    const now = new Date(2026, 2, 2, 15, 0);
    const recent = [
      award(new Date(2026, 2, 2, 9, 30), 5),
      award(new Date(2026, 2, 2, 0, 1), 3),
      award(new Date(2026, 2, 2, 10, 0), 7, "skipped"),
      award(new Date(2026, 2, 1, 23, 59), 11),
    ];
    expect(pointsToday({ advisorId: "adv_1", balance: { points: 26, payable: 0 }, rank: 1, recent }, now)).toBe(8);
  });
});

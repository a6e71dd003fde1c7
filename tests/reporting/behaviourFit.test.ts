/**
 * The what-if's fit of advisor behaviour (reporting/behaviourFit.ts) and the availability spans it
 * replays (reporting/replayHistory.ts availableSpans), on hand-worked samples.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_FIT, fitBranch, fitDuration, MIN_HANDLED_TO_FIT, MIN_OFFERS_TO_FIT, type OfferSample } from "../../reporting/behaviourFit.ts";
import { availableSpans } from "../../reporting/replayHistory.ts";

const offers = (advisorId: string, spec: Array<["accepted" | "declined" | "timed_out", number | null]>): OfferSample[] =>
  spec.map(([outcome, thinkMs]) => ({ advisorId, outcome, thinkMs }));

describe("fitDuration", () => {
  it("the median of the samples, and the spread of their logs as sigma", () => {
    // ln 1000, ln 4000: mean ln 2000, each ln 2 away: sigma = ln 2.
    expect(fitDuration([1_000, 4_000])).toEqual({ kind: "lognormal", medianSeconds: 2.5, sigma: Math.round(Math.LN2 * 1000) / 1000 });
    expect(fitDuration([3_000, 3_000, 3_000])).toEqual({ kind: "lognormal", medianSeconds: 3, sigma: 0 });
    expect(fitDuration([])).toBeNull();
    expect(fitDuration([0])).toBeNull();
  });
});

describe("fitBranch", () => {
  it("an advisor with enough offers: accepted over every resolved offer, declined over the rest, think time from the answered ones", () => {
    const own = offers("adv_a", [
      ["accepted", 2_000],
      ["accepted", 2_000],
      ["accepted", 2_000],
      ["declined", 8_000],
      ["timed_out", null],
    ]);
    expect(own).toHaveLength(MIN_OFFERS_TO_FIT);
    const handles = Array.from({ length: MIN_HANDLED_TO_FIT }, () => ({ advisorId: "adv_a", handleMs: 60_000 }));
    const fit = fitBranch(["adv_a"], own, handles).advisors.get("adv_a")!;
    expect(fit).toMatchObject({
      source: { offers: "own", handle: "own" },
      offers: 5,
      handled: 3,
      acceptRate: 3 / 4,
      acceptProbability: 3 / 5,
      declineShare: 1 / 2,
      thinkTime: { medianSeconds: 2 },
      handleTime: { kind: "lognormal", medianSeconds: 60, sigma: 0 },
    });
  });

  it("an advisor with too little history takes the branch's pooled figures, and says so", () => {
    const busy = offers("adv_busy", [
      ["accepted", 4_000],
      ["accepted", 4_000],
      ["accepted", 4_000],
      ["accepted", 4_000],
      ["declined", 4_000],
    ]);
    const newcomer = offers("adv_new", [["declined", 1_000]]);
    const fit = fitBranch(["adv_busy", "adv_new"], [...busy, ...newcomer], [{ advisorId: "adv_busy", handleMs: 120_000 }]);
    expect(fit.pooled).toMatchObject({
      source: { offers: "pooled", handle: "pooled" },
      offers: 6,
      acceptProbability: 4 / 6,
      handleTime: { medianSeconds: 120 },
    });
    expect(fit.advisors.get("adv_new")).toMatchObject({
      source: { offers: "pooled", handle: "pooled" },
      offers: 1,
      handled: 0,
      acceptProbability: 4 / 6,
      thinkTime: fit.pooled.thinkTime,
      handleTime: fit.pooled.handleTime,
    });
    // Enough offers of their own, but only one completion: own offers, pooled handle time.
    expect(fit.advisors.get("adv_busy")!.source).toEqual({ offers: "own", handle: "pooled" });
    expect(fit.advisors.get("adv_busy")!.acceptProbability).toBe(4 / 5);
  });

  it("a branch without any history: the stated defaults", () => {
    const fit = fitBranch(["adv_x"], [], []);
    expect(fit.advisors.get("adv_x")).toMatchObject({
      source: { offers: "default", handle: "default" },
      acceptProbability: DEFAULT_FIT.acceptProbability,
      thinkTime: { medianSeconds: DEFAULT_FIT.thinkMedianSeconds },
      handleTime: { medianSeconds: DEFAULT_FIT.handleMedianSeconds },
    });
  });
});

describe("availableSpans", () => {
  const at = (hh: string) => new Date(`2026-03-03T${hh}:00:00.000Z`);
  const ms = (hh: string) => at(hh).getTime();

  it("the state at the window's start is the last change before it; away and offline end a span; an open span ends with the window", () => {
    const changes = [
      { presence: "available", at: new Date("2026-03-02T20:00:00.000Z") },
      { presence: "away", at: at("09") },
      { presence: "available", at: at("10") },
      { presence: "available", at: at("11") },
      { presence: "offline", at: at("12") },
      { presence: "available", at: at("20") },
    ];
    expect(availableSpans(changes, ms("06"), ms("22"))).toEqual([
      { startMs: ms("06"), endMs: ms("09") },
      { startMs: ms("10"), endMs: ms("12") },
      { startMs: ms("20"), endMs: ms("22") },
    ]);
    expect(availableSpans([{ presence: "offline", at: at("05") }], ms("06"), ms("22"))).toEqual([]);
  });
});

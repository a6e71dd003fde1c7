import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  budgetRemainingFor,
  compareSimulations,
  evaluate,
  initialState,
  localTime,
  simulate,
  type AwardDecision,
  type EvaluableEvent,
  type EvaluateContext,
  type IncentiveState,
} from "../../incentives/evaluate.ts";
import { STAGE_POOLS } from "../../matching/domain/policy.ts";
import {
  CONDITION_APPLIES_TO,
  EARNING_EVENT_TYPES,
  parseRuleSet,
  type ConditionName,
  type Conditions,
  type EarningEventType,
  type Rule,
  type RuleSet,
} from "../../incentives/rules/schema.ts";
import { LICENCE_KINDS } from "../../matching/domain/types.ts";
import {
  accepted,
  assigned,
  completed,
  declined,
  local,
  LONDON,
  posted,
  rated,
  skipped,
  timedOut,
  WORKED_DAY,
  WORKED_DECISIONS,
  WORKED_RULES,
  type Extra,
} from "./support/workedExample.ts";

function ruleSetOf(json: unknown): RuleSet {
  const result = parseRuleSet(json);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.ruleSet;
}

const ctx = (overrides: Partial<EvaluateContext> = {}): EvaluateContext => ({ timezone: LONDON, ruleSetVersion: 1, budgetRemaining: 1_000_000, ...overrides });

/** Folds events through evaluate with a fixed remaining budget per event. */
function fold(events: EvaluableEvent[], ruleSet: RuleSet, c: EvaluateContext = ctx()): { state: IncentiveState; decisions: AwardDecision[] } {
  let state = initialState();
  const decisions: AwardDecision[] = [];
  for (const event of events) {
    const result = evaluate(state, event, ruleSet, c);
    state = result.state;
    decisions.push(...result.decisions);
  }
  return { state, decisions };
}

describe("the worked example: a day at the London branch", () => {
  const ruleSet = ruleSetOf(JSON.parse(WORKED_RULES));

  it("the day is Wednesday 10 June 2026 in ISO week 24, from 00:30 to 23:45 London time", () => {
    expect(localTime(local(0, 30), LONDON)).toEqual({ hour: 0, weekday: 3, day: "2026-06-10", week: "2026-W24" });
    expect(new Date(local(0, 30)).toISOString()).toBe("2026-06-09T23:30:00.000Z");
    expect(localTime(local(22, 15), LONDON)).toEqual({ hour: 22, weekday: 3, day: "2026-06-10", week: "2026-W24" });
    expect(localTime(local(23, 45), LONDON).day).toBe("2026-06-10");
  });

  it("decides exactly the hand-computed awards, skips and totals", () => {
    const result = simulate(WORKED_DAY, ruleSet, { timezone: LONDON, ruleSetVersion: 1, budgetPerPeriod: 90 });

    expect(result.decisions).toEqual(WORKED_DECISIONS);
    // ana: 10 + 10 + 5 + 5 + 20 + 5 + 10 = 65; ben: 5 + 10 = 15; cai: 10 (c2 skipped).
    expect(result.perAdvisor).toEqual({ ana: 65, ben: 15, cai: 10 });
    expect(result.totals).toEqual({ posted: 10, skipped: 3, points: 90 });
    expect(result.budgetUsed).toBe(90);
    expect(result.budgetUsedByPeriod).toEqual({ "2026-W24": 90 });
  });

  it("the budget defaults to the rule set's own", () => {
    expect(simulate(WORKED_DAY, ruleSet, { timezone: LONDON, ruleSetVersion: 1 }).decisions).toEqual(WORKED_DECISIONS);
  });

  it("ends the day with ana on a run of 5, ben on 2 and the streak bonus counted once for ana", () => {
    const { state } = simulate(WORKED_DAY, ruleSet, { timezone: LONDON, ruleSetVersion: 1 });
    expect(state.streaks).toEqual({ ana: 5, ben: 2, cai: 2 });
    expect(state.awards["streak-5"]).toEqual({ ana: { days: { "2026-06-10": 1 }, weeks: { "2026-W24": 1 } } });
    expect(state.awards["fast-accept"]?.cai).toEqual({ days: { "2026-06-10": 1 }, weeks: { "2026-W24": 1 } });
    expect(state.budget).toEqual({ period: "2026-W24", used: 90 });
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it("with budget to spare, the skipped awards post (the cap still holds)", () => {
    const result = simulate(WORKED_DAY, ruleSet, { timezone: LONDON, ruleSetVersion: 7, budgetPerPeriod: 1000 });
    expect(result.decisions.filter((d) => d.status === "skipped")).toEqual([skipped("a11", "streak-5", "ana", 20, "cap_per_day", 7)]);
    expect(result.perAdvisor).toEqual({ ana: 65, ben: 35, cai: 20 });
  });

  it("in UTC the same instants fall in other hours: b4 at 21:15 UTC is not night", () => {
    const utc = simulate(WORKED_DAY, ruleSet, { timezone: "UTC", ruleSetVersion: 1, budgetPerPeriod: 1000 });
    expect(utc.decisions.find((d) => d.eventId === "b4")).toEqual(posted("b4", "fast-accept", "ben", 5));
    // 05:30 BST is 04:30 UTC (night either way); 06:00 BST is 05:00 UTC: night in UTC.
    expect(utc.decisions.find((d) => d.eventId === "a3")).toEqual(posted("a3", "fast-accept", "ana", 10));
  });

  it("comparing a draft (five-star worth 15) with the active rule set", () => {
    const draft = ruleSetOf(JSON.parse(WORKED_RULES.replace('"award": { "points": 10 }', '"award": { "points": 15 }')));
    const simCtx = { timezone: LONDON, ruleSetVersion: 1, budgetPerPeriod: 1000 };
    const comparison = compareSimulations(simulate(WORKED_DAY, draft, { ...simCtx, ruleSetVersion: 2 }), simulate(WORKED_DAY, ruleSet, simCtx));
    // r1 (ana, day): 10 → 15; r3 (ben, night): 20 → 30.
    expect(comparison).toEqual({ pointsDelta: 15, perAdvisorDelta: { ana: 5, ben: 10, cai: 0 } });
  });
});

// ---------------------------------------------------------------------------------------------

describe("evaluate: streaks", () => {
  const ruleSet = ruleSetOf({
    rules: [{ id: "streak-3", on: "offer.accepted", when: { streakAtLeast: 3 }, award: { points: 1 } }],
    budget: { points: 100, period: "week" },
  });
  const t = (minute: number) => local(12, minute);

  it("counts this accept, resets on decline and on timeout, and ignores other events", () => {
    const events = [
      accepted("e1", "ana", t(1), 30),
      accepted("e2", "ana", t(2), 30),
      assigned("e3", "ana", t(3)),
      completed("e4", "ana", t(4)),
      rated("e5", "ana", t(5), 1),
      accepted("e6", "ana", t(6), 30), // streak 3: awarded
      declined("e7", "ana", t(7)),
      accepted("e8", "ana", t(8), 30),
      accepted("e9", "ana", t(9), 30),
      timedOut("e10", "ana", t(10)),
      accepted("e11", "ana", t(11), 30),
      accepted("e12", "ana", t(12), 30),
      accepted("e13", "ana", t(13), 30), // streak 3 again
      accepted("e14", "ben", t(14), 30), // ben's own streak: 1
    ];
    const { state, decisions } = fold(events, ruleSet);
    expect(decisions.map((d) => `${d.eventId}:${d.advisorId}`)).toEqual(["e6:ana", "e13:ana"]);
    expect(state.streaks).toEqual({ ana: 3, ben: 1 });
  });

  it("events that change nothing return the very same state", () => {
    const state = initialState();
    expect(evaluate(state, assigned("e1", "ana", t(1)), ruleSet, ctx()).state).toBe(state);
    expect(evaluate(state, declined("e2", "ana", t(2)), ruleSet, ctx()).state).toBe(state);
  });
});

describe("evaluate: multipliers", () => {
  const ruleSet = (...rules: unknown[]) => ruleSetOf({ rules, budget: { points: 1000, period: "week" } });

  it("compose by product over every base award of the same event type, rounded half up", () => {
    const rules = ruleSet(
      { id: "base-5", on: "request.completed", award: { points: 5 } },
      { id: "base-3", on: "request.completed", award: { points: 3 } },
      { id: "x1-5", on: "request.completed", award: { multiplier: 1.5 } },
      { id: "x1-5-b", on: "request.completed", award: { multiplier: 1.5 } },
      { id: "x10-accepts", on: "offer.accepted", award: { multiplier: 10 } },
    );
    // 5 × 2.25 = 11.25 → 11; 3 × 2.25 = 6.75 → 7.
    expect(evaluate(initialState(), completed("e1", "ana", local(12, 0)), rules, ctx()).decisions).toEqual([
      posted("e1", "base-5", "ana", 11),
      posted("e1", "base-3", "ana", 7),
    ]);
  });

  it("round exact halves up, and drop awards that round to nothing", () => {
    const rules = ruleSet(
      { id: "three", on: "request.completed", award: { points: 3 } },
      { id: "one", on: "request.completed", award: { points: 1 } },
      { id: "half", on: "request.completed", award: { multiplier: 0.5 } },
      { id: "tenth", on: "request.completed", when: { queueDepthAtLeast: 1 }, award: { multiplier: 0.1 } },
    );
    // 3 × 0.5 = 1.5 → 2; 1 × 0.5 = 0.5 → 1.
    expect(evaluate(initialState(), completed("e1", "ana", local(12, 0)), rules, ctx()).decisions).toEqual([
      posted("e1", "three", "ana", 2),
      posted("e1", "one", "ana", 1),
    ]);
    // 3 × 0.05 = 0.15 → 0, 1 × 0.05 → 0: no decisions at all.
    expect(evaluate(initialState(), completed("e2", "ana", local(12, 0), { queueDepth: 1 }), rules, ctx()).decisions).toEqual([]);
  });

  it("alone earn nothing", () => {
    const rules = ruleSet({ id: "x2", on: "offer.accepted", award: { multiplier: 2 } });
    expect(evaluate(initialState(), accepted("e1", "ana", local(12, 0), 1), rules, ctx()).decisions).toEqual([]);
  });
});

describe("evaluate: caps", () => {
  const rules = ruleSetOf({
    rules: [
      { id: "daily", on: "request.completed", award: { points: 10 }, caps: { perAdvisorPerDay: 2 } },
      { id: "weekly", on: "request.completed", award: { points: 1 }, caps: { perAdvisorPerWeek: 3 } },
    ],
    budget: { points: 1000, period: "week" },
  });

  it("per advisor per local day and per ISO week; capped awards do not count", () => {
    // Mon 8 June 2026 … ; 00:30 BST Tuesday is still Monday in UTC.
    const events = [
      completed("m1", "ana", Date.UTC(2026, 5, 8, 9)),
      completed("m2", "ana", Date.UTC(2026, 5, 8, 10)),
      completed("m3", "ana", Date.UTC(2026, 5, 8, 11)), // daily capped; weekly 3rd
      completed("b1", "ben", Date.UTC(2026, 5, 8, 11)), // ben has his own caps
      completed("t1", "ana", Date.UTC(2026, 5, 8, 23, 30)), // Tuesday 00:30 London: daily again; weekly capped
      completed("t2", "ana", Date.UTC(2026, 5, 9, 12)),
      completed("t3", "ana", Date.UTC(2026, 5, 9, 13)), // daily capped
      completed("n1", "ana", Date.UTC(2026, 5, 15, 12)), // next week's Monday: both again
    ];
    const { decisions } = fold(events, rules);
    expect(decisions.map((d) => `${d.eventId} ${d.ruleId} ${d.status}${d.reason ? ` ${d.reason}` : ""}`)).toEqual([
      "m1 daily posted",
      "m1 weekly posted",
      "m2 daily posted",
      "m2 weekly posted",
      "m3 daily skipped cap_per_day",
      "m3 weekly posted",
      "b1 daily posted",
      "b1 weekly posted",
      "t1 daily posted",
      "t1 weekly skipped cap_per_week",
      "t2 daily posted",
      "t2 weekly skipped cap_per_week",
      "t3 daily skipped cap_per_day",
      "t3 weekly skipped cap_per_week",
      "n1 daily posted",
      "n1 weekly posted",
    ]);
  });

  it("are checked before the budget", () => {
    let state = initialState();
    state = evaluate(state, completed("e1", "ana", local(9, 0)), rules, ctx()).state;
    state = evaluate(state, completed("e2", "ana", local(10, 0)), rules, ctx()).state;
    expect(evaluate(state, completed("e3", "ana", local(11, 0)), rules, ctx({ budgetRemaining: 0 })).decisions).toEqual([
      skipped("e3", "daily", "ana", 10, "cap_per_day"),
      skipped("e3", "weekly", "ana", 1, "budget_exhausted"),
    ]);
  });
});

describe("evaluate: budget", () => {
  const rules = ruleSetOf({
    rules: [
      { id: "big", on: "request.completed", award: { points: 20 } },
      { id: "small", on: "request.completed", award: { points: 5 } },
      { id: "small-2", on: "request.completed", award: { points: 5 } },
    ],
    budget: { points: 100, period: "week" },
  });

  it("grants in rule order while the remaining budget covers each award", () => {
    const e = completed("e1", "ana", local(12, 0));
    expect(evaluate(initialState(), e, rules, ctx({ budgetRemaining: 30 })).decisions.map((d) => d.status)).toEqual(["posted", "posted", "posted"]);
    expect(evaluate(initialState(), e, rules, ctx({ budgetRemaining: 29 })).decisions.map((d) => d.reason ?? d.status)).toEqual([
      "posted",
      "posted",
      "budget_exhausted",
    ]);
    expect(evaluate(initialState(), e, rules, ctx({ budgetRemaining: 9 })).decisions.map((d) => d.reason ?? d.status)).toEqual([
      "budget_exhausted",
      "posted",
      "budget_exhausted",
    ]);
    expect(evaluate(initialState(), e, rules, ctx({ budgetRemaining: 0 })).decisions.map((d) => d.reason ?? d.status)).toEqual([
      "budget_exhausted",
      "budget_exhausted",
      "budget_exhausted",
    ]);
    expect(evaluate(initialState(), e, rules, ctx({ budgetRemaining: -5 })).decisions.every((d) => d.status === "skipped")).toBe(true);
  });

  it("tracks points used per ISO week in the branch timezone; simulate starts each week afresh", () => {
    const oneRule = ruleSetOf({ rules: [{ id: "done", on: "request.completed", award: { points: 10 } }], budget: { points: 10, period: "week" } });
    const events = [
      completed("sun", "ana", Date.UTC(2026, 5, 14, 21, 0)), // Sunday 22:00 BST, week 24
      completed("sun-late", "ana", Date.UTC(2026, 5, 14, 22, 0)), // Sunday 23:00 BST: week 24 is spent
      completed("mon", "ana", Date.UTC(2026, 5, 14, 23, 30)), // Monday 00:30 BST (still Sunday in UTC): week 25
    ];
    const london = simulate(events, oneRule, { timezone: LONDON, ruleSetVersion: 1 });
    expect(london.decisions.map((d) => `${d.eventId} ${d.reason ?? d.status}`)).toEqual(["sun posted", "sun-late budget_exhausted", "mon posted"]);
    expect(london.budgetUsedByPeriod).toEqual({ "2026-W24": 10, "2026-W25": 10 });
    expect(london.budgetUsed).toBe(20);
    expect(london.state.budget).toEqual({ period: "2026-W25", used: 10 });

    const utc = simulate(events, oneRule, { timezone: "UTC", ruleSetVersion: 1 });
    expect(utc.decisions.map((d) => `${d.eventId} ${d.reason ?? d.status}`)).toEqual(["sun posted", "sun-late budget_exhausted", "mon budget_exhausted"]);
  });

  it("budgetRemainingFor: the whole budget in a new week, the rest in the current one, none in a closed one", () => {
    const state: IncentiveState = { ...initialState(), budget: { period: "2026-W24", used: 30 } };
    expect(budgetRemainingFor(initialState(), local(12, 0), LONDON, 100)).toBe(100);
    expect(budgetRemainingFor(state, local(12, 0), LONDON, 100)).toBe(70);
    expect(budgetRemainingFor(state, local(12, 0), LONDON, 20)).toBe(0);
    expect(budgetRemainingFor(state, local(12, 0) + 7 * 86_400_000, LONDON, 100)).toBe(100);
    expect(budgetRemainingFor(state, local(12, 0) - 7 * 86_400_000, LONDON, 100)).toBe(0);
  });
});

describe("evaluate: conditions", () => {
  const on = (type: EarningEventType, when: Conditions) =>
    ruleSetOf({ rules: [{ id: "r", on: type, when, award: { points: 1 } }], budget: { points: 100, period: "week" } });
  const earns = (ruleSet: RuleSet, event: EvaluableEvent) => evaluate(initialState(), event, ruleSet, ctx()).decisions.length === 1;
  const noon = local(12, 0); // Wednesday

  it("responseSecondsAtMost is inclusive", () => {
    const r = on("offer.accepted", { responseSecondsAtMost: 10 });
    expect([9.999, 10, 10.001].map((s) => earns(r, accepted("e", "ana", noon, s)))).toEqual([true, true, false]);
  });

  it("starsAtLeast", () => {
    const r = on("request.rated", { starsAtLeast: 4 });
    expect([3, 4, 5].map((s) => earns(r, rated("e", "ana", noon, s)))).toEqual([false, true, true]);
  });

  it("weekdayIn uses the local ISO weekday (Monday = 1, Sunday = 7)", () => {
    const r = on("request.completed", { weekdayIn: [7] });
    expect(earns(r, completed("sun", "ana", Date.UTC(2026, 5, 14, 22, 30)))).toBe(true); // Sunday 23:30 BST
    expect(earns(r, completed("mon", "ana", Date.UTC(2026, 5, 14, 23, 30)))).toBe(false); // Monday 00:30 BST
    expect(earns(on("request.completed", { weekdayIn: [1] }), completed("mon", "ana", Date.UTC(2026, 5, 14, 23, 30)))).toBe(true);
  });

  it("localHourIn follows daylight saving time", () => {
    const r = on("request.completed", { localHourIn: { from: 9, to: 17 } });
    expect(earns(r, completed("winter", "ana", Date.UTC(2026, 0, 14, 8, 30)))).toBe(false); // 08:30 GMT
    expect(earns(r, completed("summer", "ana", Date.UTC(2026, 6, 14, 8, 30)))).toBe(true); // 09:30 BST
    expect(earns(r, completed("end", "ana", Date.UTC(2026, 6, 14, 16, 0)))).toBe(false); // 17:00 BST: half-open
  });

  it("queueDepthAtLeast reads the event's queueDepth, absent counting as 0", () => {
    expect(earns(on("request.completed", { queueDepthAtLeast: 0 }), completed("e", "ana", noon))).toBe(true);
    expect(earns(on("request.completed", { queueDepthAtLeast: 1 }), completed("e", "ana", noon))).toBe(false);
    expect(earns(on("offer.accepted", { queueDepthAtLeast: 3 }), accepted("e", "ana", noon, 1, { queueDepth: 3 }))).toBe(true);
    expect(earns(on("offer.accepted", { queueDepthAtLeast: 3 }), accepted("e", "ana", noon, 1, { queueDepth: 2 }))).toBe(false);
  });

  it("licenceKindIn reads the event's requiredLicence", () => {
    const r = on("offer.accepted", { licenceKindIn: ["futures", "insurance"] });
    expect(earns(r, accepted("e", "ana", noon, 1, { requiredLicence: "insurance" }))).toBe(true);
    expect(earns(r, accepted("e", "ana", noon, 1, { requiredLicence: "fund_sales" }))).toBe(false);
  });

  it("stage is the accepted offer's stage", () => {
    const r = on("offer.accepted", { stage: "national" });
    expect(earns(r, accepted("e", "ana", noon, 1, { stage: "national" }))).toBe(true);
    expect(earns(r, accepted("e", "ana", noon, 1, { stage: "branch" }))).toBe(false);
  });

  it("all conditions must hold", () => {
    const r = on("offer.accepted", { responseSecondsAtMost: 5, stage: "queue", queueDepthAtLeast: 2 });
    expect(earns(r, accepted("e", "ana", noon, 5, { stage: "queue", queueDepth: 2 }))).toBe(true);
    expect(earns(r, accepted("e", "ana", noon, 6, { stage: "queue", queueDepth: 2 }))).toBe(false);
    expect(earns(r, accepted("e", "ana", noon, 5, { stage: "region", queueDepth: 2 }))).toBe(false);
    expect(earns(r, accepted("e", "ana", noon, 5, { stage: "queue", queueDepth: 1 }))).toBe(false);
  });

  it("an unknown timezone is a RangeError", () => {
    expect(() => evaluate(initialState(), completed("e", "ana", noon), on("request.completed", {}), ctx({ timezone: "Mars/Olympus" }))).toThrow(RangeError);
  });
});

describe("compareSimulations", () => {
  it("subtracts active from draft per advisor, over advisors in either", () => {
    const base = { totals: { posted: 0, skipped: 0, points: 0 }, budgetUsed: 0, budgetUsedByPeriod: {}, decisions: [], state: initialState() };
    const draft = { ...base, totals: { posted: 2, skipped: 0, points: 30 }, perAdvisor: { ana: 10, cai: 20 } };
    const active = { ...base, totals: { posted: 2, skipped: 1, points: 25 }, perAdvisor: { ana: 15, ben: 10 } };
    expect(compareSimulations(draft, active)).toEqual({ pointsDelta: 5, perAdvisorDelta: { ana: -5, ben: -10, cai: 20 } });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const TIMEZONES = ["Europe/London", "UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"];
/** Friday 20 March 2026: the next 16 days span three ISO weeks and Europe's switch to summer time (29 March). */
const START = Date.UTC(2026, 2, 20);

const CONDITION_ARBS: { [K in ConditionName]-?: fc.Arbitrary<NonNullable<Conditions[K]>> } = {
  responseSecondsAtMost: fc.integer({ min: 0, max: 30 }),
  starsAtLeast: fc.integer({ min: 1, max: 5 }),
  localHourIn: fc.record({ from: fc.integer({ min: 0, max: 23 }), to: fc.integer({ min: 0, max: 24 }) }).filter((r) => r.from !== r.to),
  weekdayIn: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
  streakAtLeast: fc.integer({ min: 1, max: 6 }),
  queueDepthAtLeast: fc.integer({ min: 0, max: 5 }),
  licenceKindIn: fc.uniqueArray(fc.constantFrom(...LICENCE_KINDS), { minLength: 1 }),
  stage: fc.constantFrom(...STAGE_POOLS),
};

/** Zero to two conditions that fit the event type, so rules match often enough to award, cap and exhaust. */
function conditionsFor(on: EarningEventType): fc.Arbitrary<Conditions> {
  const applicable = (Object.keys(CONDITION_ARBS) as ConditionName[]).filter((name) => CONDITION_APPLIES_TO[name].includes(on));
  return fc.subarray(applicable, { maxLength: 2 }).chain((names) => {
    const model = Object.fromEntries(names.map((name) => [name, CONDITION_ARBS[name]])) as Record<string, fc.Arbitrary<unknown>>;
    return fc.record(model) as fc.Arbitrary<Conditions>;
  });
}

function ruleArb(id: string): fc.Arbitrary<Rule> {
  const required: Array<"id" | "on" | "award"> = ["id", "on", "award"];
  return fc.constantFrom(...EARNING_EVENT_TYPES).chain((on) => {
    const pointsRule = fc.record(
      {
        id: fc.constant(id),
        on: fc.constant(on),
        when: conditionsFor(on),
        award: fc.record({ points: fc.integer({ min: 1, max: 50 }) }),
        caps: fc.record({ perAdvisorPerDay: fc.integer({ min: 1, max: 2 }), perAdvisorPerWeek: fc.integer({ min: 1, max: 4 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: required },
    );
    const multiplierRule = fc.record(
      { id: fc.constant(id), on: fc.constant(on), when: conditionsFor(on), award: fc.record({ multiplier: fc.double({ min: 0.05, max: 10, noNaN: true }) }) },
      { requiredKeys: required },
    );
    return fc.oneof({ weight: 3, arbitrary: pointsRule }, { weight: 1, arbitrary: multiplierRule });
  }) as fc.Arbitrary<Rule>;
}

const ruleSetArb: fc.Arbitrary<RuleSet> = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.record({
    rules: fc.tuple(...Array.from({ length: n }, (_, i) => ruleArb(`r${i}`))),
    budget: fc.record({ points: fc.integer({ min: 0, max: 300 }), period: fc.constant("week" as const) }),
  }),
);

const KINDS = ["accepted", "accepted", "accepted", "declined", "timed_out", "rated", "completed", "assigned"] as const;

const eventSpecArb = fc.record({
  kind: fc.constantFrom(...KINDS),
  advisor: fc.constantFrom("ana", "ben", "cai"),
  minute: fc.integer({ min: 0, max: 60 * 24 * 16 }),
  latency: fc.integer({ min: 0, max: 30 }),
  stars: fc.integer({ min: 1, max: 5 }),
  stage: fc.constantFrom(...STAGE_POOLS),
  licence: fc.constantFrom(...LICENCE_KINDS),
  queueDepth: fc.integer({ min: 0, max: 6 }),
});

type EventSpec = typeof eventSpecArb extends fc.Arbitrary<infer T> ? T : never;

function toEvents(specs: EventSpec[], sorted: boolean): EvaluableEvent[] {
  const events = specs.map((s, i): EvaluableEvent => {
    const id = `e${i}`;
    const at = START + s.minute * 60_000;
    const extra: Extra = { stage: s.stage, requiredLicence: s.licence, queueDepth: s.queueDepth };
    switch (s.kind) {
      case "accepted":
        return accepted(id, s.advisor, at, s.latency, extra);
      case "declined":
        return declined(id, s.advisor, at);
      case "timed_out":
        return timedOut(id, s.advisor, at);
      case "rated":
        return rated(id, s.advisor, at, s.stars);
      case "completed":
        return completed(id, s.advisor, at, i % 2 ? extra : { requiredLicence: s.licence });
      case "assigned":
        return assigned(id, s.advisor, at);
      default:
        throw new Error(`unknown event kind ${String((s as { kind: unknown }).kind)}`);
    }
  });
  return sorted ? events.sort((a, b) => a.at - b.at) : events;
}

const scenarioArb = fc.record({
  ruleSet: ruleSetArb,
  specs: fc.array(eventSpecArb, { maxLength: 80, size: "medium" }),
  sorted: fc.boolean(),
  timezone: fc.constantFrom(...TIMEZONES),
  budgetPerPeriod: fc.oneof(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 1000 })),
});

describe("properties", () => {
  it("generated rule sets are valid documents", () => {
    fc.assert(
      fc.property(ruleSetArb, (ruleSet) => {
        const result = parseRuleSet(JSON.parse(JSON.stringify(ruleSet)));
        expect(result).toEqual({ ok: true, ruleSet });
      }),
    );
  });

  it("evaluation is deterministic, never mutates its input, and works on a JSON round-tripped state", () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: -50, max: 300 }), ({ ruleSet, specs, sorted, timezone }, budgetRemaining) => {
        const events = toEvents(specs, sorted);
        const c = { timezone, ruleSetVersion: 3, budgetRemaining };
        let state = initialState();
        for (const event of events) {
          const before = JSON.stringify(state);
          const first = evaluate(state, event, ruleSet, c);
          const second = evaluate(JSON.parse(before) as IncentiveState, structuredClone(event), structuredClone(ruleSet), c);
          expect(JSON.stringify(state)).toBe(before);
          expect(second).toEqual(first);
          state = first.state;
        }
        const simCtx = { timezone, ruleSetVersion: 3, budgetPerPeriod: budgetRemaining };
        expect(simulate(events, ruleSet, simCtx)).toEqual(simulate(events, ruleSet, simCtx));
      }),
    );
  });

  it("simulate equals folding evaluate one event at a time", () => {
    fc.assert(
      fc.property(scenarioArb, ({ ruleSet, specs, sorted, timezone, budgetPerPeriod }) => {
        const events = toEvents(specs, sorted);
        let state = initialState();
        const decisions: AwardDecision[] = [];
        for (const event of events) {
          const budgetRemaining = budgetRemainingFor(state, event.at, timezone, budgetPerPeriod);
          const result = evaluate(state, event, ruleSet, { timezone, ruleSetVersion: 9, budgetRemaining });
          state = result.state;
          decisions.push(...result.decisions);
        }
        const sim = simulate(events, ruleSet, { timezone, ruleSetVersion: 9, budgetPerPeriod });
        expect(sim.decisions).toEqual(decisions);
        expect(sim.state).toEqual(state);

        const postedDecisions = decisions.filter((d) => d.status === "posted");
        expect(sim.totals).toEqual({
          posted: postedDecisions.length,
          skipped: decisions.length - postedDecisions.length,
          points: postedDecisions.reduce((sum, d) => sum + d.points, 0),
        });
        const perAdvisor: Record<string, number> = {};
        for (const d of decisions) perAdvisor[d.advisorId] = (perAdvisor[d.advisorId] ?? 0) + (d.status === "posted" ? d.points : 0);
        expect(sim.perAdvisor).toEqual(perAdvisor);
      }),
    );
  });

  it("points are never negative: every award is a positive integer, every total at least 0", () => {
    fc.assert(
      fc.property(scenarioArb, ({ ruleSet, specs, sorted, timezone, budgetPerPeriod }) => {
        const sim = simulate(toEvents(specs, sorted), ruleSet, { timezone, ruleSetVersion: 1, budgetPerPeriod });
        for (const d of sim.decisions) {
          expect(Number.isSafeInteger(d.points)).toBe(true);
          expect(d.points).toBeGreaterThan(0);
          if (d.status === "posted") expect(d).not.toHaveProperty("reason");
          else expect(d.reason).toMatch(/^(cap_per_day|cap_per_week|budget_exhausted)$/);
        }
        for (const points of Object.values(sim.perAdvisor)) expect(points).toBeGreaterThanOrEqual(0);
        expect(sim.totals.points).toBeGreaterThanOrEqual(0);
        expect(sim.state.budget.used).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("budget used never exceeds the budget: per event, per week, in the state", () => {
    fc.assert(
      fc.property(scenarioArb, ({ ruleSet, specs, sorted, timezone, budgetPerPeriod }) => {
        const events = toEvents(specs, sorted);
        const sim = simulate(events, ruleSet, { timezone, ruleSetVersion: 1, budgetPerPeriod });
        for (const used of Object.values(sim.budgetUsedByPeriod)) expect(used).toBeLessThanOrEqual(budgetPerPeriod);
        expect(sim.state.budget.used).toBeLessThanOrEqual(budgetPerPeriod);
        expect(sim.budgetUsed).toBe(sim.totals.points);

        // Independently of simulate: each week's posted points, by the event's local week.
        const weekOf = new Map(events.map((e) => [e.id, localTime(e.at, timezone).week]));
        const byWeek = new Map<string, number>();
        for (const d of sim.decisions) if (d.status === "posted") byWeek.set(weekOf.get(d.eventId)!, (byWeek.get(weekOf.get(d.eventId)!) ?? 0) + d.points);
        for (const used of byWeek.values()) expect(used).toBeLessThanOrEqual(budgetPerPeriod);
      }),
    );
  });

  it("one event never posts more than the remaining budget, however it is given", () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: -20, max: 120 }), ({ ruleSet, specs, sorted, timezone }, budgetRemaining) => {
        let state = initialState();
        for (const event of toEvents(specs, sorted)) {
          const { state: next, decisions } = evaluate(state, event, ruleSet, { timezone, ruleSetVersion: 1, budgetRemaining });
          const postedPoints = decisions.filter((d) => d.status === "posted").reduce((sum, d) => sum + d.points, 0);
          expect(postedPoints).toBeLessThanOrEqual(Math.max(0, budgetRemaining));
          state = next;
        }
      }),
    );
  });
});

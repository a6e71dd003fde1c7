import { describe, expect, it } from "vitest";
import { hourInRange } from "../../incentives/evaluate.ts";
import {
  CONDITION_APPLIES_TO,
  EARNING_EVENT_TYPES,
  formatRuleSetErrors,
  parseRuleSet,
  type ConditionName,
  type RuleSetError,
} from "../../incentives/rules/schema.ts";

const BUDGET = { points: 1000, period: "week" };

function doc(...rules: unknown[]): unknown {
  return { rules, budget: BUDGET };
}

function errorsOf(json: unknown): RuleSetError[] {
  const result = parseRuleSet(json);
  if (result.ok) throw new Error("expected the rule set to be rejected");
  return result.errors;
}

function accepted(when: unknown, id = "fast"): unknown {
  return { id, on: "offer.accepted", when, award: { points: 5 } };
}

/** A valid value for every condition, for the one event type each suits best. */
const VALID_CONDITION: Record<ConditionName, unknown> = {
  responseSecondsAtMost: 10,
  starsAtLeast: 5,
  localHourIn: { from: 22, to: 6 },
  weekdayIn: [1, 2, 3, 4, 5],
  streakAtLeast: 5,
  queueDepthAtLeast: 3,
  licenceKindIn: ["fund_sales", "insurance"],
  stage: "region",
};

describe("parseRuleSet: valid documents", () => {
  it("accepts every condition on an event it fits, points and multiplier awards, caps and the budget", () => {
    const json = {
      rules: [
        {
          id: "fast-accept",
          on: "offer.accepted",
          when: {
            responseSecondsAtMost: 10,
            localHourIn: { from: 8, to: 18 },
            weekdayIn: [1, 2, 3, 4, 5],
            streakAtLeast: 2,
            queueDepthAtLeast: 0,
            licenceKindIn: ["securities_advisory"],
            stage: "queue",
          },
          award: { points: 5 },
          caps: { perAdvisorPerDay: 10, perAdvisorPerWeek: 40 },
        },
        { id: "five_star", on: "request.rated", when: { starsAtLeast: 5 }, award: { points: 10 } },
        { id: "done", on: "request.completed", award: { points: 1 } },
        { id: "night-x2", on: "offer.accepted", when: { localHourIn: { from: 22, to: 6 } }, award: { multiplier: 2 } },
        { id: "x0-5", on: "request.rated", award: { multiplier: 0.5 } },
      ],
      budget: { points: 0, period: "week" },
    };
    const result = parseRuleSet(json);
    expect(result).toEqual({ ok: true, ruleSet: json });
  });

  it("accepts a JSON document round-tripped through a string", () => {
    const result = parseRuleSet(JSON.parse(JSON.stringify(doc(accepted({ responseSecondsAtMost: 2.5 })))));
    expect(result.ok).toBe(true);
  });

  it("accepts the limits: 100 rules, points 1 and 100000, multiplier 10, id of 64 characters", () => {
    const rules = Array.from({ length: 100 }, (_, i) => ({ id: `r${i}`, on: "request.completed", award: { points: i % 2 ? 1 : 100_000 } }));
    rules[0] = { id: "a".repeat(64), on: "request.completed", award: { points: 1 } };
    expect(parseRuleSet(doc(...rules)).ok).toBe(true);
    expect(parseRuleSet(doc({ id: "m", on: "request.rated", award: { multiplier: 10 } })).ok).toBe(true);
  });
});

describe("parseRuleSet: every condition's invalid values name the rule and the field", () => {
  const cases: Array<{ on: string; when: Record<string, unknown>; field: string }> = [
    { on: "offer.accepted", when: { responseSecondsAtMost: -1 }, field: "when.responseSecondsAtMost" },
    { on: "offer.accepted", when: { responseSecondsAtMost: "10" }, field: "when.responseSecondsAtMost" },
    { on: "request.rated", when: { starsAtLeast: 0 }, field: "when.starsAtLeast" },
    { on: "request.rated", when: { starsAtLeast: 6 }, field: "when.starsAtLeast" },
    { on: "request.rated", when: { starsAtLeast: 4.5 }, field: "when.starsAtLeast" },
    { on: "offer.accepted", when: { localHourIn: { from: 24, to: 6 } }, field: "when.localHourIn.from" },
    { on: "offer.accepted", when: { localHourIn: { from: -1, to: 6 } }, field: "when.localHourIn.from" },
    { on: "offer.accepted", when: { localHourIn: { from: 1, to: 25 } }, field: "when.localHourIn.to" },
    { on: "offer.accepted", when: { localHourIn: { from: 1, to: 2.5 } }, field: "when.localHourIn.to" },
    { on: "offer.accepted", when: { localHourIn: { from: 1 } }, field: "when.localHourIn.to" },
    { on: "offer.accepted", when: { localHourIn: { from: 1, to: 2, tz: "UTC" } }, field: "when.localHourIn.tz" },
    { on: "offer.accepted", when: { localHourIn: { from: 7, to: 7 } }, field: "when.localHourIn" },
    { on: "offer.accepted", when: { weekdayIn: [0] }, field: "when.weekdayIn.0" },
    { on: "offer.accepted", when: { weekdayIn: [1, 8] }, field: "when.weekdayIn.1" },
    { on: "offer.accepted", when: { weekdayIn: [] }, field: "when.weekdayIn" },
    { on: "offer.accepted", when: { streakAtLeast: 0 }, field: "when.streakAtLeast" },
    { on: "offer.accepted", when: { streakAtLeast: 1.5 }, field: "when.streakAtLeast" },
    { on: "offer.accepted", when: { queueDepthAtLeast: -1 }, field: "when.queueDepthAtLeast" },
    { on: "request.completed", when: { queueDepthAtLeast: 0.5 }, field: "when.queueDepthAtLeast" },
    { on: "offer.accepted", when: { licenceKindIn: ["mortgages"] }, field: "when.licenceKindIn.0" },
    { on: "request.completed", when: { licenceKindIn: [] }, field: "when.licenceKindIn" },
    { on: "offer.accepted", when: { stage: "global" }, field: "when.stage" },
    { on: "offer.accepted", when: { surgeAtLeast: 1 }, field: "when.surgeAtLeast" },
  ];

  it.each(cases)("$on when $when → $field", ({ on, when, field }) => {
    const errors = errorsOf(doc({ id: "ok-rule", on, award: { points: 1 } }, { id: "bad-rule", on, when, award: { points: 5 } }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ ruleId: "bad-rule", field });
    expect(errors[0]!.message).not.toBe("");
  });

  it("covers every condition the schema knows", () => {
    const covered = new Set(cases.map((c) => Object.keys(c.when)[0]));
    for (const name of Object.keys(CONDITION_APPLIES_TO)) expect(covered).toContain(name);
  });
});

describe("parseRuleSet: a condition that does not fit the rule's event", () => {
  const combos = (Object.keys(CONDITION_APPLIES_TO) as ConditionName[]).flatMap((name) =>
    EARNING_EVENT_TYPES.map((on) => ({ name, on, fits: CONDITION_APPLIES_TO[name].includes(on) })),
  );

  it("only latency, streak and stage are accept-only, and stars rating-only", () => {
    expect(
      combos
        .filter((c) => !c.fits)
        .map((c) => `${c.name}@${c.on}`)
        .sort(),
    ).toEqual(
      [
        "responseSecondsAtMost@request.completed",
        "responseSecondsAtMost@request.rated",
        "stage@request.completed",
        "stage@request.rated",
        "starsAtLeast@offer.accepted",
        "starsAtLeast@request.completed",
        "streakAtLeast@request.completed",
        "streakAtLeast@request.rated",
      ].sort(),
    );
  });

  it.each(combos)("$name on $on: fits = $fits", ({ name, on, fits }) => {
    const json = doc({ id: "rule-1", on, when: { [name]: VALID_CONDITION[name] }, award: { points: 5 } });
    const result = parseRuleSet(json);
    if (fits) {
      expect(result.ok).toBe(true);
    } else {
      expect(result).toEqual({
        ok: false,
        errors: [{ ruleId: "rule-1", field: `when.${name}`, message: expect.stringContaining(`does not apply to ${on}`) }],
      });
    }
  });

  it("is reported together with shape errors elsewhere in the document", () => {
    const errors = errorsOf(
      doc(
        { id: "stars-on-accept", on: "offer.accepted", when: { starsAtLeast: 5 }, award: { points: 5 } },
        { id: "bad-points", on: "request.rated", award: { points: 0 } },
      ),
    );
    expect(errors.map((e) => [e.ruleId, e.field])).toEqual([
      ["bad-points", "award.points"],
      ["stars-on-accept", "when.starsAtLeast"],
    ]);
  });
});

describe("parseRuleSet: wrapping hours", () => {
  it.each([
    [{ from: 22, to: 6 }, true],
    [{ from: 0, to: 24 }, true],
    [{ from: 23, to: 0 }, true],
    [{ from: 9, to: 17 }, true],
    [{ from: 12, to: 12 }, false],
  ])("%o valid: %s", (range, valid) => {
    expect(parseRuleSet(doc(accepted({ localHourIn: range }))).ok).toBe(valid);
  });

  it("an empty range is an error naming the rule and localHourIn", () => {
    expect(errorsOf(doc(accepted({ localHourIn: { from: 12, to: 12 } }, "noon")))).toEqual([
      { ruleId: "noon", field: "when.localHourIn", message: expect.stringContaining("empty") },
    ]);
  });

  it("ranges are half-open, and from > to wraps midnight", () => {
    const hoursIn = (range: { from: number; to: number }) => Array.from({ length: 24 }, (_, h) => h).filter((h) => hourInRange(h, range));
    expect(hoursIn({ from: 22, to: 6 })).toEqual([0, 1, 2, 3, 4, 5, 22, 23]);
    expect(hoursIn({ from: 9, to: 17 })).toEqual([9, 10, 11, 12, 13, 14, 15, 16]);
    expect(hoursIn({ from: 0, to: 24 })).toHaveLength(24);
    expect(hoursIn({ from: 23, to: 0 })).toEqual([23]);
    expect(hoursIn({ from: 20, to: 24 })).toEqual([20, 21, 22, 23]);
  });
});

describe("parseRuleSet: rule ids", () => {
  it("rejects duplicate ids, naming the id and both positions", () => {
    const errors = errorsOf(
      doc(
        { id: "dup", on: "offer.accepted", award: { points: 1 } },
        { id: "other", on: "request.rated", award: { points: 1 } },
        { id: "dup", on: "request.completed", award: { points: 2 } },
      ),
    );
    expect(errors).toEqual([{ ruleId: "dup", field: "id", message: expect.stringMatching(/duplicate.*rules 0 and 2/) }]);
  });

  it("reports each repeat of an id once", () => {
    const same = { id: "same", on: "request.completed", award: { points: 1 } };
    expect(errorsOf(doc(same, same, same)).map((e) => e.message)).toEqual([expect.stringContaining("rules 0 and 1"), expect.stringContaining("rules 0 and 2")]);
  });

  it.each([
    ["Upper", "uppercase"],
    ["has space", "space"],
    ["", "empty"],
    ["x".repeat(65), "too long"],
    [42, "not a string"],
  ])("names a rule with a bad id (%s: %s) by its index", (id: unknown, _why: string) => {
    const errors = errorsOf(doc({ id: "fine", on: "request.completed", award: { points: 1 } }, { id, on: "request.completed", award: { points: 1 } }));
    expect(errors).toEqual([{ ruleId: "#1", field: "id", message: expect.any(String) }]);
  });

  it("names a rule without an id by its index, with every other error of that rule", () => {
    const errors = errorsOf(doc({ on: "offer.accepted", when: { starsAtLeast: 5 }, award: { points: 1 } }));
    expect(errors.map((e) => [e.ruleId, e.field])).toEqual([
      ["#0", "id"],
      ["#0", "when.starsAtLeast"],
    ]);
  });
});

describe("parseRuleSet: awards, caps, event types and unknown fields", () => {
  it.each([
    [{ points: 0 }, "award.points"],
    [{ points: 100_001 }, "award.points"],
    [{ points: 2.5 }, "award.points"],
    [{ multiplier: 0 }, "award.multiplier"],
    [{ multiplier: -2 }, "award.multiplier"],
    [{ multiplier: 10.5 }, "award.multiplier"],
    [{ points: 5, multiplier: 2 }, "award"],
    [{}, "award"],
    ["5", "award"],
    [{ points: 5, bonus: 1 }, "award.bonus"],
  ])("award %o → %s", (award, field) => {
    expect(errorsOf(doc({ id: "r", on: "request.completed", award }))).toEqual([{ ruleId: "r", field, message: expect.any(String) }]);
  });

  it("a missing award names the rule and award", () => {
    expect(errorsOf(doc({ id: "r", on: "request.completed" }))).toEqual([{ ruleId: "r", field: "award", message: expect.any(String) }]);
  });

  it.each([
    [{ perAdvisorPerDay: 0 }, "caps.perAdvisorPerDay"],
    [{ perAdvisorPerWeek: 1.5 }, "caps.perAdvisorPerWeek"],
    [{ perAdvisorPerMonth: 3 }, "caps.perAdvisorPerMonth"],
  ])("caps %o → %s", (caps, field) => {
    expect(errorsOf(doc({ id: "r", on: "request.completed", award: { points: 1 }, caps }))).toEqual([{ ruleId: "r", field, message: expect.any(String) }]);
  });

  it("caps on a multiplier rule are an error", () => {
    expect(errorsOf(doc({ id: "x2", on: "offer.accepted", award: { multiplier: 2 }, caps: { perAdvisorPerDay: 1 } }))).toEqual([
      { ruleId: "x2", field: "caps", message: expect.stringContaining("points rules only") },
    ]);
  });

  it.each(["offer.declined", "request.created", "accepted", 3])("on %s is not an earning event", (on) => {
    expect(errorsOf(doc({ id: "r", on, award: { points: 1 } }))).toEqual([{ ruleId: "r", field: "on", message: expect.any(String) }]);
  });

  it("names unknown fields of a rule and of its conditions", () => {
    const errors = errorsOf(
      doc({ id: "r", on: "offer.accepted", when: { responseSecondsAtMost: 5, fastest: true }, award: { points: 1 }, note: "x", tier: 2 }),
    );
    expect(errors.map((e) => [e.ruleId, e.field])).toEqual(
      expect.arrayContaining([
        ["r", "when.fastest"],
        ["r", "note"],
        ["r", "tier"],
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  it("a rule that is not an object is named by its index, with an empty field", () => {
    expect(errorsOf(doc({ id: "ok", on: "request.completed", award: { points: 1 } }, "rule"))).toEqual([
      { ruleId: "#1", field: "", message: expect.any(String) },
    ]);
  });
});

describe("parseRuleSet: document-level errors have no rule id", () => {
  it.each([
    ["rules", { rules: [], budget: BUDGET }],
    ["rules", { rules: Array.from({ length: 101 }, (_, i) => ({ id: `r${i}`, on: "request.completed", award: { points: 1 } })), budget: BUDGET }],
    ["rules", { budget: BUDGET }],
    ["budget.points", { rules: [{ id: "r", on: "request.completed", award: { points: 1 } }], budget: { points: -1, period: "week" } }],
    ["budget.period", { rules: [{ id: "r", on: "request.completed", award: { points: 1 } }], budget: { points: 10, period: "month" } }],
    ["budget", { rules: [{ id: "r", on: "request.completed", award: { points: 1 } }] }],
    ["version", { rules: [{ id: "r", on: "request.completed", award: { points: 1 } }], budget: BUDGET, version: 2 }],
    ["", null],
    ["", "{}"],
  ])("document %# → error at %j", (field, json) => {
    expect(errorsOf(json)).toEqual([{ ruleId: null, field, message: expect.any(String) }]);
  });
});

describe("formatRuleSetErrors", () => {
  it("puts rule and field in front of each message", () => {
    const errors = errorsOf({
      rules: [{ id: "r", on: "offer.accepted", when: { starsAtLeast: 5 }, award: { points: 1 } }],
      budget: { points: -1, period: "week" },
    });
    const text = formatRuleSetErrors(errors);
    expect(text).toContain("rule set, budget.points: ");
    expect(text).toContain("rule r, when.starsAtLeast: does not apply to offer.accepted rules");
  });
});

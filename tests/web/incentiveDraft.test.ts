/**
 * The console's rule set form state (web/src/screens/incentives/draft.ts): a rule set survives the
 * round trip through the form unchanged, the form refuses what the API's schema refuses and names
 * the field, hidden conditions are not sent, and the API's own refusal lands on the right field.
 */
import { describe, expect, it } from "vitest";
import { parseRuleSet, type RuleSet } from "../../incentives/rules/schema.ts";
import { newRule, serverErrors, toDraft, validate } from "../../web/src/screens/incentives/draft.ts";

const FULL: RuleSet = {
  rules: [
    {
      id: "fast-accept",
      on: "offer.accepted",
      when: {
        responseSecondsAtMost: 10,
        streakAtLeast: 3,
        localHourIn: { from: 22, to: 6 },
        weekdayIn: [1, 5],
        licenceKindIn: ["fund_sales"],
        stage: "branch",
      },
      award: { points: 5 },
      caps: { perAdvisorPerDay: 4, perAdvisorPerWeek: 10 },
    },
    { id: "surge", on: "offer.accepted", when: { queueDepthAtLeast: 5 }, award: { multiplier: 1.5 } },
    { id: "five-stars", on: "request.rated", when: { starsAtLeast: 5 }, award: { points: 20 } },
  ],
  budget: { points: 900, period: "week" },
};

describe("the rule set form's draft", () => {
  it("round-trips every kind of rule and condition unchanged", () => {
    expect(validate(toDraft(FULL))).toEqual({ ok: true, ruleSet: FULL });
  });

  it("names the field of a number that is not one, and of a value the schema refuses", () => {
    const draft = toDraft(FULL);
    draft.rules[0]!.award = "many";
    draft.rules[1]!.award = "11";
    draft.rules[2]!.id = "Five Stars";
    draft.budget = "";
    const result = validate(draft);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors["rules.0.award"]).toBe("Enter a number");
    expect(result.errors["rules.1.award"]).toMatch(/10/);
    expect(result.errors["rules.2.id"]).toMatch(/lower-case/);
    expect(result.errors["budget.points"]).toBe("Enter a number");
  });

  it("reports an empty hour range and a duplicate id as the API would", () => {
    const draft = toDraft(FULL);
    draft.rules[0]!.when.hourTo = "22";
    draft.rules[2]!.id = "surge";
    const result = validate(draft);
    expect(result.ok ? {} : result.errors).toMatchObject({
      "rules.0.when.localHourIn": expect.stringMatching(/empty/),
      "rules.2.id": expect.stringMatching(/duplicate/),
    });
  });

  it("drops conditions that do not apply to the rule's event, and caps of a multiplier rule", () => {
    const draft = toDraft(FULL);
    draft.rules[0]!.on = "request.completed";
    draft.rules[0]!.awardKind = "multiplier";
    draft.rules[0]!.award = "2";
    const result = validate(draft);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ruleSet.rules[0]).toEqual({
      id: "fast-accept",
      on: "request.completed",
      when: { localHourIn: { from: 22, to: 6 }, weekdayIn: [1, 5], licenceKindIn: ["fund_sales"] },
      award: { multiplier: 2 },
    });
  });

  it("puts the API's refusal (rule id or #index, field) on the form's field", () => {
    const draft = toDraft(FULL);
    const refused = parseRuleSet({ ...FULL, rules: [FULL.rules[0], { ...FULL.rules[1], when: { starsAtLeast: 3 } }, { ...FULL.rules[2], id: "BAD" }] });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(serverErrors(draft, refused.errors)).toMatchObject({
      "rules.1.when.starsAtLeast": expect.stringMatching(/does not apply/),
      "rules.2.id": expect.any(String),
    });
  });

  it("gives a new rule an id the set does not use yet", () => {
    const rules = toDraft(FULL).rules;
    rules[0]!.id = "rule-4";
    expect(newRule(rules).id).toBe("rule-5");
  });
});

/**
 * Incentive rule sets in the API's contract: the body of POST /v1/branches/{id}/incentive-rules and
 * the rule set in its answers are the zod schema that validates them, so /openapi.json describes
 * every rule part as a component; and a refused document still answers with errors naming rule and
 * field. In-process, on the embedded backends.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../api/app.ts";
import type { Principal } from "../../api/auth/principal.ts";
import { RuleSetSchema } from "../../incentives/rules/schema.ts";
import { callApp, errorOf, openTestDeps, type TestDeps } from "../support/testApp.ts";

interface OpenApiDoc {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

const RULES = {
  rules: [
    {
      id: "fast-accept",
      on: "offer.accepted",
      when: { responseSecondsAtMost: 10, localHourIn: { from: 22, to: 6 } },
      award: { points: 5 },
      caps: { perAdvisorPerDay: 3 },
    },
    { id: "night-boost", on: "offer.accepted", when: { weekdayIn: [6, 7] }, award: { multiplier: 1.5 } },
  ],
  budget: { points: 500, period: "week" },
};

describe("incentive rule sets in the OpenAPI document (embedded backends)", () => {
  let t: TestDeps;
  let app: ReturnType<typeof createApp>;
  let doc: OpenApiDoc;
  let docText: string;
  const admin: Principal = { sub: "usr_admin_rules", role: "admin" };
  const call = (method: string, path: string, principal: Principal | null, body?: unknown) =>
    callApp(app as never, t.deps.config.jwtSecret, method, path, principal, body);

  beforeAll(async () => {
    t = await openTestDeps("adx-rules-doc-");
    app = createApp(t.deps);
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    docText = await res.text();
    doc = JSON.parse(docText) as OpenApiDoc;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("has a component for the rule set and each of its parts, and no pointer to the source instead", () => {
    const schemas = doc.components.schemas;
    for (const name of [
      "IncentiveRuleSet",
      "IncentiveRule",
      "IncentiveRuleConditions",
      "IncentiveHourRange",
      "IncentivePointsAward",
      "IncentiveMultiplierAward",
      "IncentiveRuleCaps",
      "IncentiveBudget",
    ]) {
      expect(schemas[name], name).toBeDefined();
    }
    expect(docText).not.toContain("see incentives/rules");
    expect(schemas.IncentiveRuleSetDocument).toBeUndefined();

    // The components say what the validator says.
    const ruleSet = schemas.IncentiveRuleSet!;
    expect(ruleSet).toMatchObject({ type: "object", required: ["rules", "budget"], additionalProperties: false });
    expect(ruleSet.properties).toMatchObject({ rules: { type: "array", minItems: 1, maxItems: 100, items: { $ref: "#/components/schemas/IncentiveRule" } } });
    const rule = schemas.IncentiveRule!;
    expect(rule.required).toEqual(["id", "on", "award"]);
    expect(rule.properties).toMatchObject({
      id: { type: "string", pattern: "^[a-z0-9_-]{1,64}$" },
      on: { enum: ["offer.accepted", "request.completed", "request.rated"] },
      when: { $ref: "#/components/schemas/IncentiveRuleConditions" },
      caps: { $ref: "#/components/schemas/IncentiveRuleCaps" },
    });
    expect(JSON.stringify((rule.properties as Record<string, unknown>).award)).toContain("#/components/schemas/IncentivePointsAward");
    expect(JSON.stringify((rule.properties as Record<string, unknown>).award)).toContain("#/components/schemas/IncentiveMultiplierAward");
    expect(schemas.IncentivePointsAward).toMatchObject({ properties: { points: { type: "integer", minimum: 1, maximum: 100_000 } }, required: ["points"] });
    expect(schemas.IncentiveMultiplierAward).toMatchObject({ properties: { multiplier: { type: "number", exclusiveMinimum: 0, maximum: 10 } } });
    expect(schemas.IncentiveBudget).toMatchObject({ properties: { period: { type: "string", enum: ["week"] } } });
  });

  it("uses the rule set component for the create body and in every rule set answer", () => {
    const ref = "#/components/schemas/IncentiveRuleSet";
    const create = doc.paths["/v1/branches/{id}/incentive-rules"]!.post!;
    expect(create.requestBody!.content["application/json"]!.schema).toEqual({ $ref: ref });
    const version = doc.components.schemas.IncentiveRuleSetVersion;
    expect((version?.properties as Record<string, unknown> | undefined)?.ruleSet).toEqual({ $ref: ref });
    const versionRef = { $ref: "#/components/schemas/IncentiveRuleSetVersion" };
    expect(JSON.stringify(create.responses["201"])).toContain(versionRef.$ref);
    expect(JSON.stringify(doc.paths["/v1/branches/{id}/incentive-rules/{version}"]!.get!.responses["200"])).toContain(versionRef.$ref);
  });

  it("takes a valid rule set, answers it back, and refuses an invalid one naming rule and field", async () => {
    const branchId = ((await (await call("POST", "/v1/branches", admin, { name: "Rules", region: "north" })).json()) as { id: string }).id;
    const path = `/v1/branches/${branchId}/incentive-rules`;
    const created = await call("POST", path, admin, RULES);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ branchId, version: 1, status: "draft", ruleSet: RuleSetSchema.parse(RULES) });

    const cases: Array<[unknown, { ruleId: string | null; field: string }]> = [
      [
        { ...RULES, rules: [{ ...RULES.rules[0], when: { starsAtLeast: 5 } }] },
        { ruleId: "fast-accept", field: "when.starsAtLeast" },
      ],
      [
        { ...RULES, rules: [{ ...RULES.rules[1], caps: { perAdvisorPerDay: 1 } }] },
        { ruleId: "night-boost", field: "caps" },
      ],
      [
        { ...RULES, rules: [RULES.rules[0], RULES.rules[0]] },
        { ruleId: "fast-accept", field: "id" },
      ],
      [
        { ...RULES, rules: [{ ...RULES.rules[0], award: { points: 1, multiplier: 2 } }] },
        { ruleId: "fast-accept", field: "award" },
      ],
      [
        { ...RULES, rules: [{ ...RULES.rules[0], id: "Bad Id" }] },
        { ruleId: "#0", field: "id" },
      ],
      [
        { ...RULES, budget: { points: 10, period: "month" } },
        { ruleId: null, field: "budget.period" },
      ],
      [
        { ...RULES, extra: true },
        { ruleId: null, field: "extra" },
      ],
    ];
    for (const [body, expected] of cases) {
      const res = await call("POST", path, admin, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.details, JSON.stringify(body)).toEqual(expect.arrayContaining([expect.objectContaining(expected)]));
    }
    // Nothing refused was stored.
    expect(((await (await call("GET", path, admin)).json()) as unknown[]).length).toBe(1);
  });
});

/**
 * The policies a simulation compares, each a real DispatchPolicy (validated by the production
 * schema) and whether advisors run with incentives.
 *
 * - default: the shipped funnel (DEFAULT_DISPATCH_POLICY), incentives on;
 * - pure-grab / pure-dispatch: the same stages and timers, every stage in one mode (the dedicated
 *   stage stays a single push offer: the schema allows nothing else). The shipped default is
 *   every stage grab since the simulator showed it best (see DEFAULT_DISPATCH_POLICY), so pure-grab
 *   is the same policy as the default and its figures are the default's;
 * - branch-only: the default without its region and national stages;
 * - default-no-incentives: the default with the incentive ranking weight at 0 and advisors not
 *   responding to incentives (the scenario's incentiveResponse not applied);
 * - branch-dispatch: BRANCH_DISPATCH_POLICY, the default until the simulator's verdict, whose branch
 *   stage offers one advisor after another: the comparison that changed the default, kept runnable.
 */
import { BRANCH_DISPATCH_POLICY, DEFAULT_DISPATCH_POLICY, DispatchPolicySchema, type DispatchPolicy } from "../matching/domain/policy.ts";
import type { RuleSet } from "../incentives/rules/schema.ts";
import { DEFAULT_SIMULATION_RULES } from "./incentives.ts";
import type { PolicyVariant, Scenario } from "./scenario.ts";

export interface PolicyUnderTest {
  name: string;
  policy: DispatchPolicy;
  /** Advisors respond to incentives (the behaviour's incentiveResponse applies). */
  incentives: boolean;
  /** The branches' incentive rules, evaluated by the production consumer; null with incentives off or not evaluated. */
  ruleSet: RuleSet | null;
}

const allIn = (mode: "grab" | "dispatch"): DispatchPolicy => ({
  ...DEFAULT_DISPATCH_POLICY,
  stages: DEFAULT_DISPATCH_POLICY.stages.map((s) => (s.pool === "dedicated" ? s : { ...s, mode })),
});

const VARIANTS: Record<PolicyVariant, () => Omit<PolicyUnderTest, "ruleSet">> = {
  default: () => ({ name: "default", policy: DEFAULT_DISPATCH_POLICY, incentives: true }),
  "pure-grab": () => ({ name: "pure-grab", policy: allIn("grab"), incentives: true }),
  "pure-dispatch": () => ({ name: "pure-dispatch", policy: allIn("dispatch"), incentives: true }),
  "branch-only": () => ({
    name: "branch-only",
    policy: { ...DEFAULT_DISPATCH_POLICY, stages: DEFAULT_DISPATCH_POLICY.stages.filter((s) => s.pool === "dedicated" || s.pool === "branch") },
    incentives: true,
  }),
  "default-no-incentives": () => ({
    name: "default-no-incentives",
    policy: { ...DEFAULT_DISPATCH_POLICY, weights: { ...DEFAULT_DISPATCH_POLICY.weights, incentive: 0 } },
    incentives: false,
  }),
  "branch-dispatch": () => ({ name: "branch-dispatch", policy: BRANCH_DISPATCH_POLICY, incentives: true }),
};

/** The scenario's policies, each checked by the production schema (a variant that fails it is a bug here). */
export function policiesOf(scenario: Scenario): PolicyUnderTest[] {
  return scenario.policies.map((entry) => {
    const chosen = typeof entry === "string" ? VARIANTS[entry]() : entry;
    const ruleSet = chosen.incentives && scenario.evaluateIncentives ? (scenario.incentiveRules ?? DEFAULT_SIMULATION_RULES) : null;
    return { ...chosen, policy: DispatchPolicySchema.parse(chosen.policy), ruleSet };
  });
}

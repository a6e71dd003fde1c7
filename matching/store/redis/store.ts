/**
 * The Redis MatchingStore: production adapter, shared by every server process.
 *
 * Every check-and-mutate is one Lua script (matching/lua/, run by scripts.ts) over one entity's
 * document, so two processes can never both win a decision; each one that writes also checks the
 * live-state fence (the generation key, lua/lib/fence.lua) and throws LiveStateUnavailableError
 * while the state is lost and not yet rebuilt. The script that changes an entity also moves its
 * entries in the global sets (candidate index, presence sets, queue, live set, deadlines), so they
 * never lag. Node only decodes results (decode.ts) and maps codes to outcomes (codes.ts).
 *
 * The steps live in groups (supply.ts, demand.ts, lifecycle.ts) over one shared context
 * (context.ts); this file assembles them.
 */
import type { RedisClient } from "../../../platform/redis.ts";
import type { EligibilityInput, EligibilityResult } from "../../domain/eligibility.ts";
import type { MatchingStore } from "../port.ts";
import { outcomeOf } from "./codes.ts";
import { runScript } from "./scripts.ts";
import { createStoreContext, type RedisMatchingStoreOptions } from "./context.ts";
import { acceptSteps, endSteps, requestSteps, resolveSteps, stageSteps } from "./demand.ts";
import { lifecycleSteps, timeSteps } from "./lifecycle.ts";
import { advisorSteps, candidateSteps, capacitySteps } from "./supply.ts";

import { decodeSnapshot } from "./decode.ts";

// ---- the pure Lua eligibility, for tests and diagnostics ------------------------------------------

/**
 * Runs the Lua mirror of checkEligibility (lua/lib/eligibility.lua, the code every capacity script
 * uses) on the given facts, touching no key.
 */
export async function checkEligibilityInLua(client: RedisClient, input: EligibilityInput): Promise<EligibilityResult> {
  const argument = JSON.stringify({
    profile: input.advisor,
    supply: input.supply,
    request: input.request,
    now: input.now,
    ttl: input.presenceTtlMs,
    wantLang: input.request.language === null ? null : input.request.language.toLowerCase(),
    langs: input.advisor.languages.map((language) => language.toLowerCase()),
    rule: input.capacityRule,
    excluded: input.excluded === true,
  });
  const outcome = outcomeOf("checkEligibility", await runScript(client, "checkEligibility", [], [argument]));
  if (outcome.ok) return { eligible: true, snapshot: decodeSnapshot(outcome.payload[0]) };
  return { eligible: false, reason: outcome.reason, detail: String(outcome.payload[0]) };
}

// ---- the store -------------------------------------------------------------------------------------

export function createRedisMatchingStore(client: RedisClient, options: RedisMatchingStoreOptions = {}): MatchingStore {
  const ctx = createStoreContext(client, options);
  return {
    kind: "redis",
    ...advisorSteps(ctx),
    ...candidateSteps(ctx),
    ...capacitySteps(ctx),
    ...requestSteps(ctx),
    ...acceptSteps(ctx),
    ...resolveSteps(ctx),
    ...stageSteps(ctx),
    ...endSteps(ctx),
    ...timeSteps(ctx),
    ...lifecycleSteps(ctx),
  };
}

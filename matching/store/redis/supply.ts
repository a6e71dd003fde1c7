/** Supply on Redis: advisors, presence, the candidate lookup, capacity and answers. */
import { EMPTY_STATS, type OfferAnswer } from "../../domain/ranking.ts";
import type { CandidateQuery, MatchingStore } from "../port.ts";
import { candidateKeys, candidateQueryKeys } from "./keys.ts";
import { clamp01, decodeAdvisor, eligibilityContext, foldedLanguages, must } from "./decode.ts";
import { RESPONSIVENESS_ALPHA, type StoreContext } from "./context.ts";
import { createCandidateLookup } from "./candidateLookup.ts";

/** Registration, presence and reads of advisors. */
export function advisorSteps(
  ctx: StoreContext,
): Pick<MatchingStore, "upsertAdvisor" | "setPresence" | "expirePresence" | "findLapsedAdvisors" | "countAvailable" | "getAdvisor" | "getAdvisors"> {
  const { client, keys, run, loadAdvisor, writeAdvisor, loadAdvisors } = ctx;
  return {
    async upsertAdvisor(profile, _now) {
      const state = await writeAdvisor("upsertAdvisor", profile.id, [
        JSON.stringify(profile),
        foldedLanguages(profile),
        JSON.stringify(EMPTY_STATS),
        JSON.stringify(candidateKeys(keys, profile)),
      ]);
      if (!state) throw new Error("redis matching store: upsertAdvisor refused");
      return state;
    },
    async setPresence(advisorId, presence, now, options) {
      // The script answers the document after and before the write (lua/setPresence.lua).
      const outcome = await run("setPresence", [keys.advisor(advisorId)], [presence, String(now), options?.onlyIfNewer ? "1" : "0"]);
      if (!outcome.ok) return { ok: false, reason: "UNKNOWN_ADVISOR" };
      const advisor = must(decodeAdvisor(outcome.payload[0]), "advisor");
      const before = must(decodeAdvisor(outcome.payload[1]), "advisor");
      return { ok: true, advisor, previous: before.supply.presence };
    },
    async expirePresence(advisorId, heartbeatBefore) {
      const outcome = await run("expirePresence", [keys.advisor(advisorId)], [String(heartbeatBefore)]);
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      return { ok: true, advisor: must(decodeAdvisor(outcome.payload[0]), "advisor"), duplicate: outcome.duplicate };
    },
    async findLapsedAdvisors(heartbeatBefore, limit) {
      if (!(limit > 0)) return [];
      const result: string[] = [];
      const chunk = Math.min(Math.ceil(limit), 1000);
      for (let offset = 0; result.length < limit; offset += chunk) {
        const ids = (await client.zRange(keys.heartbeats, "-inf", `(${heartbeatBefore}`, { BY: "SCORE", LIMIT: { offset, count: chunk } })).map(String);
        // The set is a hint: the document decides (an entry may trail a write still re-syncing).
        const docs = await loadAdvisors(ids);
        ids.forEach((id, i) => {
          const supply = docs[i]?.value.supply;
          if (supply && supply.presence !== "offline" && supply.heartbeatAt < heartbeatBefore && result.length < limit) result.push(id);
        });
        if (ids.length < chunk) break;
      }
      return result;
    },
    async countAvailable(heartbeatAfter) {
      return await client.zCount(keys.available, heartbeatAfter, "+inf");
    },
    async getAdvisor(advisorId) {
      return (await loadAdvisor(advisorId))?.value ?? null;
    },
    async getAdvisors(advisorIds) {
      return (await loadAdvisors(advisorIds)).map((doc) => doc?.value ?? null);
    },
  };
}

/** The candidate lookup through the index (candidateLookup.ts). */
export function candidateSteps(ctx: StoreContext): Pick<MatchingStore, "findCandidates"> {
  const lookup = createCandidateLookup(ctx.lookupClient, ctx.loadCandidates);
  return {
    async findCandidates(query: CandidateQuery) {
      if (!(query.limit > 0)) return [];
      const scopeKeys = candidateQueryKeys(ctx.keys, query);
      if (scopeKeys.length === 0) return [];
      return await lookup.find(query, scopeKeys);
    },
  };
}

/** Capacity grants and releases, answers, ratings and incentives. */
export function capacitySteps(
  ctx: StoreContext,
): Pick<
  MatchingStore,
  "holdPushSlot" | "checkBroadcastEligibility" | "takeAssignment" | "releaseAssignment" | "releasePushHold" | "recordAnswer" | "recordRating" | "setIncentive"
> {
  const { keys, run, writeAdvisor, capacityResult } = ctx;
  return {
    async holdPushSlot(advisorId, request, offerId, now, presenceTtlMs) {
      const outcome = await run("holdPushSlot", [keys.advisor(advisorId)], [JSON.stringify(request), eligibilityContext(request, now, presenceTtlMs), offerId]);
      return capacityResult(advisorId, outcome);
    },
    async checkBroadcastEligibility(advisorId, request, now, presenceTtlMs) {
      const outcome = await run(
        "checkBroadcastEligibility",
        [keys.advisor(advisorId)],
        [JSON.stringify(request), eligibilityContext(request, now, presenceTtlMs)],
      );
      return capacityResult(advisorId, outcome);
    },
    async takeAssignment(advisorId, request, offerId, now, presenceTtlMs) {
      const outcome = await run(
        "takeAssignment",
        [keys.advisor(advisorId)],
        [JSON.stringify(request), eligibilityContext(request, now, presenceTtlMs), offerId],
      );
      return capacityResult(advisorId, outcome);
    },
    async releaseAssignment(advisorId, requestId) {
      return writeAdvisor("releaseAssignment", advisorId, [requestId]);
    },
    async releasePushHold(advisorId, offerId) {
      const outcome = await run("releasePushHold", [keys.advisor(advisorId)], [offerId]);
      return outcome.ok ? must(decodeAdvisor(outcome.payload[0]), "advisor") : null;
    },
    // Unknown advisors are ignored: an answer can outlive a directory removal, and that is not a fault.
    async recordAnswer(advisorId, answer: OfferAnswer) {
      const latency = answer.accepted ? String(answer.latencyMs) : "0";
      await run("recordAnswer", [keys.advisor(advisorId)], [answer.accepted ? "1" : "0", latency, String(RESPONSIVENESS_ALPHA)]);
    },
    async recordRating(advisorId, stars) {
      await run("recordRating", [keys.advisor(advisorId)], [String(stars)]);
    },
    async setIncentive(advisorId, value) {
      await run("setIncentive", [keys.advisor(advisorId)], [String(clamp01(value))]);
    },
  };
}

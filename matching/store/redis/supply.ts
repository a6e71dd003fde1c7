/** Supply on Redis: advisors, presence, the candidate lookup, capacity and answers. */
import { EMPTY_STATS, type OfferAnswer } from "../../domain/ranking.ts";
import type { AdvisorState, CandidateQuery, MatchingStore } from "../port.ts";
import { matchesCandidateQuery } from "../candidateMembership.ts";
import { candidateKeys, candidateQueryKeys } from "./keys.ts";
import { clamp01, decodeAdvisor, eligibilityContext, foldedLanguages, must } from "./decode.ts";
import { RESPONSIVENESS_ALPHA, type StoreContext } from "./context.ts";

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

/** The candidate lookup through the index. */
export function candidateSteps(ctx: StoreContext): Pick<MatchingStore, "findCandidates"> {
  const { client, keys, loadCandidates } = ctx;
  return {
    async findCandidates(query: CandidateQuery) {
      if (!(query.limit > 0)) return [];
      const scopeKeys = candidateQueryKeys(keys, query);
      if (scopeKeys.length === 0) return [];
      // Each scope list is read a share at a time (twice the even split): the merge needs only `limit`
      // heads in all, and every entry node-redis parses costs more than a rare second round trip.
      const chunk = Math.min(Math.max(16, Math.ceil((2 * query.limit) / scopeKeys.length)), Math.ceil(query.limit), 1000);
      const cursors = scopeKeys.map((key) => ({ key, offset: 0, done: false, buffer: [] as Array<{ value: string; score: number }> }));
      const seen = new Set<string>();
      const result: AdvisorState[] = [];

      const dry = (cursor: (typeof cursors)[number]) => !cursor.done && cursor.buffer.length === 0;
      const readHeads = async (cursor: (typeof cursors)[number]) => {
        const rows = await client.zRangeWithScores(cursor.key, cursor.offset, cursor.offset + chunk - 1);
        cursor.offset += rows.length;
        cursor.buffer.push(...rows.map((row) => ({ value: String(row.value), score: Number(row.score) })));
        if (rows.length < chunk) cursor.done = true;
      };
      // The merged advisors whose documents are still to be read.
      let batch: string[] = [];
      // Whether the merge stopped at a list that ran dry, and so needs that list's next heads.
      let blocked = true;
      for (;;) {
        // One round trip (one slot, pipelined): the documents of the last batch, and the next heads of
        // the lists that ran dry when the merge needs them. A list that runs dry before the merge has
        // enough (one big list among small ones) costs no round trip of its own.
        const [docs] = await Promise.all([loadCandidates(batch), ...(blocked ? cursors.filter(dry).map(readHeads) : [])]);
        // The index is a hint: keep only advisors whose current document still belongs in a queried set.
        for (const doc of docs) {
          if (!doc || result.length >= query.limit) continue;
          const state = doc.value;
          if (matchesCandidateQuery(state, query) && state.profile.suitabilityMaxRisk >= query.minRisk) result.push(state);
        }
        if (result.length >= query.limit) break;
        // Merge by (lastAssignedAt, id) until we have enough or a list needs reading again.
        batch = [];
        blocked = false;
        for (;;) {
          if (batch.length >= query.limit - result.length) break;
          if (cursors.some(dry)) {
            blocked = true;
            break;
          }
          let best: (typeof cursors)[number] | undefined;
          for (const cursor of cursors) {
            const head = cursor.buffer[0];
            if (!head) continue;
            const top = best?.buffer[0];
            if (!top || head.score < top.score || (head.score === top.score && head.value < top.value)) best = cursor;
          }
          if (!best) break;
          const { value } = best.buffer.shift()!;
          if (!seen.has(value)) {
            seen.add(value);
            batch.push(value);
          }
        }
        // Nothing merged and no list to read again: every list was read to its end.
        if (batch.length === 0 && !blocked) break;
      }
      return result;
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

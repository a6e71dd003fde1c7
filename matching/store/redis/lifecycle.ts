/** Deadlines, the queue, leases and the live state's lifecycle (reset, restore, the generation fence) on Redis. */
import type { MatchingStore, MatchingStoreLifecycle } from "../port.ts";
import { candidateKeys, globEscape } from "./keys.ts";
import { foldedLanguages, isOpen, isTerminal } from "./decode.ts";
import { TERMINAL_RETENTION_SECONDS, type StoreContext } from "./context.ts";

/** Deadlines, the queue and the live-request list. */
export function timeSteps(
  ctx: StoreContext,
): Pick<MatchingStore, "setDeadline" | "setDeadlineIf" | "getDeadline" | "clearDeadline" | "claimDueDeadlines" | "listQueue" | "listLiveRequestIds"> {
  const { client, keys, run, loadRequest, loadMany } = ctx;
  return {
    async setDeadline(requestId, at) {
      await client.zAdd(keys.deadlines, { score: at, value: requestId });
    },
    async setDeadlineIf(requestId, at, rev) {
      return (await run("setDeadlineIf", [keys.request(requestId), keys.deadlines], [String(at), String(rev)])).ok;
    },
    async getDeadline(requestId) {
      const score = await client.zScore(keys.deadlines, requestId);
      return score === null ? null : Number(score);
    },
    async clearDeadline(requestId) {
      await client.zRem(keys.deadlines, requestId);
    },
    async claimDueDeadlines(now, leaseMs, limit) {
      if (!(limit > 0)) return [];
      const outcome = await run("claimDueDeadlines", [keys.deadlines], [String(now), String(now + leaseMs), String(Math.ceil(limit))]);
      return outcome.payload.map(String);
    },
    async listQueue(limit) {
      if (!(limit > 0)) return [];
      const result: string[] = [];
      const chunk = Math.min(Math.ceil(limit), 1000);
      for (let offset = 0; result.length < limit; offset += chunk) {
        const ids = (await client.zRange(keys.queue, offset, offset + chunk - 1)).map(String);
        // A stale entry (claimed, finished, moved out) is skipped: the document decides.
        const docs = await loadMany(ids, loadRequest);
        ids.forEach((id, i) => {
          const request = docs[i]?.value;
          if (request && request.queueScore !== null && isOpen(request.status) && result.length < limit) result.push(id);
        });
        if (ids.length < chunk) break;
      }
      return result;
    },
    async listLiveRequestIds() {
      const ids = (await client.sMembers(keys.live)).map(String).sort();
      const docs = await loadMany(ids, loadRequest);
      return ids.filter((_, i) => {
        const request = docs[i]?.value;
        return request !== undefined && !isTerminal(request.status);
      });
    },
  };
}

/** Reset, restore, the generation fence, leases and close. */
export function lifecycleSteps(ctx: StoreContext): MatchingStoreLifecycle {
  const { client, keys, run, writeAdvisor } = ctx;
  return {
    async reset(options = {}) {
      const kept = (key: string) => options.keepLeases === true && (key.startsWith(`${keys.prefix}lease:`) || key === keys.journal);
      for await (const batch of client.scanIterator({ MATCH: `${globEscape(keys.prefix)}*`, COUNT: 500 })) {
        // One UNLINK per key, pipelined (node-redis sends the commands of one tick together).
        await Promise.all(
          batch
            .map(String)
            .filter((key) => !kept(key))
            .map((key) => client.unlink(key)),
        );
      }
    },
    async retireGeneration(generation) {
      // Compare and delete in one step: a generation a rebuild has just written is not retired.
      const removed = await client.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", {
        keys: [keys.generation],
        arguments: [generation],
      });
      return removed === 1;
    },
    async restoreAdvisor(state) {
      await writeAdvisor("restoreAdvisor", state.profile.id, [
        JSON.stringify(state),
        foldedLanguages(state.profile),
        JSON.stringify(candidateKeys(keys, state.profile)),
      ]);
    },
    async restoreRequest(request, deadline) {
      const id = request.facts.id;
      const outcome = await run(
        "restoreRequest",
        [keys.request(id)],
        [JSON.stringify(request), String(TERMINAL_RETENTION_SECONDS), deadline === null ? "" : String(deadline)],
      );
      if (!outcome.ok) throw new Error("redis matching store: restoreRequest refused");
    },
    async getGeneration() {
      return (await client.get(keys.generation)) ?? null;
    },
    async setGeneration(generation) {
      await client.set(keys.generation, generation);
    },
    async isLive() {
      return (await client.exists(keys.generation)) === 1;
    },
    async acquireLease(name, token, ttlMs) {
      return (await client.set(keys.lease(name), token, { NX: true, PX: ttlMs })) === "OK";
    },
    async renewLease(name, token, ttlMs) {
      return (await run("renewLease", [keys.lease(name)], [token, String(ttlMs)])).ok;
    },
    async releaseLease(name, token) {
      await run("releaseLease", [keys.lease(name)], [token]);
    },
    // The client belongs to the caller (it is shared with other stores and health checks): not closed here.
    async close() {},
  };
}

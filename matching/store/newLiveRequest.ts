import type { RequestFacts } from "../domain/types.ts";
import type { LiveRequest } from "./port.ts";

/**
 * A request as createRequest registers it: pending at `stageIndex`, nothing offered, nobody
 * excluded. The memory store builds its requests with this (the Redis store's twin is
 * lua/createRequest.lua); benches and tests build theirs from it too.
 */
export function newLiveRequest(facts: RequestFacts, init: { stageIndex: number; now: number }): LiveRequest {
  return {
    facts,
    status: "pending",
    stageIndex: init.stageIndex,
    stageStartedAt: init.now,
    offersInStage: 0,
    assignedAdvisorId: null,
    excluded: [],
    offers: [],
    queueScore: null,
    callbackRequested: false,
    updatedAt: init.now,
    rev: 1,
  };
}

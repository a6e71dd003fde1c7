/** The decode caches of the candidate lookup and of request reads (matching/store/redis/decodedCache.ts). */
import { describe, expect, it } from "vitest";
import { EMPTY_STATS } from "../../matching/domain/ranking.ts";
import { createCandidateCache, createRequestCache } from "../../matching/store/redis/decodedCache.ts";

const advisorText = (id: string, ratingSum = 0) =>
  JSON.stringify({
    profile: { id, branchId: "brn_1", region: "r1", status: "active", maxConcurrent: 2, languages: ["en"], suitabilityMaxRisk: 3, licences: [] },
    supply: { presence: "available", heartbeatAt: 1, active: 0, pendingPush: 0 },
    stats: { ...EMPTY_STATS, ratingSum },
    assignments: [],
    pushHolds: [],
    rev: 3,
    langs: ["en"],
  });

describe("candidate decode cache", () => {
  it("decodes a text once, answers the same frozen state while the text is unchanged, and decodes a changed one afresh", () => {
    const cache = createCandidateCache();
    const first = cache.decode("adv_a", advisorText("adv_a"));
    expect(first?.value.profile.id).toBe("adv_a");
    expect(first?.rev).toBe(3);
    expect(cache.decode("adv_a", advisorText("adv_a"))).toBe(first);
    expect(Object.isFrozen(first!.value.stats)).toBe(true);
    expect(Object.isFrozen(first!.value.profile.languages)).toBe(true);
    const changed = cache.decode("adv_a", advisorText("adv_a", 5));
    expect(changed).not.toBe(first);
    expect(changed!.value.stats.ratingSum).toBe(5);
  });

  it("a missing document is null and forgotten; a malformed one throws, as the uncached decoding does", () => {
    const cache = createCandidateCache();
    cache.decode("adv_a", advisorText("adv_a"));
    expect(cache.decode("adv_a", null)).toBeNull();
    expect(cache.size).toBe(0);
    expect(() => cache.decode("adv_b", JSON.stringify({ profile: { id: "adv_b" } }))).toThrow();
  });

  it("keeps at most its capacity, dropping the least recently used first", () => {
    const cache = createCandidateCache(2);
    const a = cache.decode("adv_a", advisorText("adv_a"));
    cache.decode("adv_b", advisorText("adv_b"));
    expect(cache.decode("adv_a", advisorText("adv_a"))).toBe(a); // a is now the most recent
    cache.decode("adv_c", advisorText("adv_c")); // drops b
    expect(cache.size).toBe(2);
    expect(cache.decode("adv_a", advisorText("adv_a"))).toBe(a);
    const b = cache.decode("adv_b", advisorText("adv_b"));
    expect(b?.value.profile.id).toBe("adv_b");
  });

  it("requests too, from a text's second read on: then one frozen request per text (a grab's accepts share it); a changed request is decoded afresh", () => {
    const cache = createRequestCache();
    const request = (status: string) =>
      JSON.stringify({
        offers: [
          { id: "off_1", requestId: "req_a", advisorId: "adv_a", kind: "broadcast", stageIndex: 1, sentAt: 5, expiresAt: 9, outcome: null, respondedAt: null },
        ],
        ol: 0,
        facts: {
          id: "req_a",
          clientId: "cli_a",
          branchId: "brn_1",
          region: "r1",
          requiredLicence: "fund_sales",
          riskLevel: 2,
          language: null,
          priority: 0,
          dedicatedAdvisorId: null,
          mode: "grab",
          createdAt: 1,
        },
        status,
        stageIndex: 1,
        stageStartedAt: 1,
        offersInStage: 1,
        assignedAdvisorId: null,
        excluded: [],
        queueScore: 1,
        callbackRequested: false,
        updatedAt: 5,
        rev: 4,
      });
    // The first read of a text is decoded and not kept (each step of a dispatch changes the text).
    const once = cache.decode("req_a", request("offered"));
    expect(once?.value).toMatchObject({ status: "offered", rev: 4 });
    expect(once?.value).not.toHaveProperty("ol");
    expect(Object.isFrozen(once!.value)).toBe(false);
    expect(cache.textOf(once!.value)).toBeUndefined();
    const offered = cache.decode("req_a", request("offered"));
    expect(offered).not.toBe(once);
    expect(offered).toEqual(once);
    expect(cache.decode("req_a", request("offered"))).toBe(offered);
    expect(cache.textOf(offered!.value)).toBe(request("offered"));
    expect(Object.isFrozen(offered!.value.offers[0])).toBe(true);
    expect(() => {
      (offered!.value.offers as unknown[]).push({});
    }).toThrow(TypeError);
    const assigned = cache.decode("req_a", request("assigned"));
    expect(assigned).not.toBe(offered);
    expect(assigned?.value.status).toBe("assigned");
    expect(cache.decode("req_a", request("assigned"))).not.toBe(assigned);
  });
});

/** The funnel state machine, step by step (pure), on the funnel with a dispatch branch stage so every step kind is walked. */
import { describe, expect, it } from "vitest";
import { nextStep, queueReach, queueScore, stagesFor, withinPool, type StepContext } from "../../matching/domain/funnel.ts";
import { BRANCH_DISPATCH_POLICY as policy, DEFAULT_DISPATCH_POLICY } from "../../matching/domain/policy.ts";
import { newLiveRequest } from "../../matching/store/newLiveRequest.ts";
import type { LiveRequest, OfferState } from "../../matching/store/port.ts";

const T0 = Date.UTC(2026, 0, 5, 9);
const stages = stagesFor(policy, "auto");

function request(patch: Partial<LiveRequest> = {}): LiveRequest {
  const facts = {
    id: "req_1",
    clientId: "cli_1",
    branchId: "brn_1",
    region: "north",
    requiredLicence: "fund_sales",
    riskLevel: 2,
    language: null,
    priority: 0,
    dedicatedAdvisorId: "adv_d",
    mode: "auto",
    createdAt: T0,
  } as const;
  return { ...newLiveRequest(facts, { stageIndex: 0, now: T0 }), ...patch };
}

function offer(patch: Partial<OfferState> = {}): OfferState {
  return {
    id: "off_1",
    requestId: "req_1",
    advisorId: "adv_1",
    kind: "push",
    stageIndex: 0,
    sentAt: T0,
    expiresAt: T0 + 20_000,
    outcome: null,
    respondedAt: null,
    ...patch,
  };
}

const at = (now: number, noCandidates = false): StepContext => ({ stages, policy, now, noCandidates });

describe("funnel steps", () => {
  it("starts with one push offer to the dedicated advisor for the offer TTL", () => {
    expect(nextStep(request(), at(T0))).toEqual({ kind: "offer", pool: "dedicated", reach: "dedicated", offerKind: "push", count: 1, expiresAt: T0 + 20_000 });
  });

  it("waits for an open offer, then times it out at its expiry", () => {
    const r = request({ status: "offered", offersInStage: 1, offers: [offer()] });
    expect(nextStep(r, at(T0 + 5_000))).toEqual({ kind: "wait", until: T0 + 20_000 });
    expect(nextStep(r, at(T0 + 20_000))).toMatchObject({ kind: "expire-offers", offers: [{ id: "off_1" }] });
  });

  it("moves on when the stage has used its offers or found nobody", () => {
    expect(nextStep(request({ offersInStage: 1, offers: [offer({ outcome: "timed_out" })] }), at(T0 + 20_000))).toEqual({ kind: "advance", toStageIndex: 1 });
    expect(nextStep(request(), at(T0, true))).toEqual({ kind: "advance", toStageIndex: 1 });
  });

  it("makes up to maxOffers sequential push offers in a dispatch stage, capped by the stage end", () => {
    const branch = request({ stageIndex: 1, stageStartedAt: T0, offersInStage: 2 });
    expect(nextStep(branch, at(T0 + 50_000))).toEqual({ kind: "offer", pool: "branch", reach: "branch", offerKind: "push", count: 1, expiresAt: T0 + 60_000 });
    expect(nextStep({ ...branch, offersInStage: 3 }, at(T0 + 50_000))).toEqual({ kind: "advance", toStageIndex: 2 });
  });

  it("broadcasts once in a grab stage, to min(maxOffers, grabTopK), for the grab window", () => {
    const region = request({ stageIndex: 2, stageStartedAt: T0 });
    expect(nextStep(region, at(T0))).toEqual({ kind: "offer", pool: "region", reach: "region", offerKind: "broadcast", count: 20, expiresAt: T0 + 30_000 });
    expect(nextStep({ ...region, offersInStage: 5 }, at(T0 + 10_000))).toEqual({ kind: "advance", toStageIndex: 3 });
  });

  it("withdraws open offers when the stage time is up", () => {
    const r = request({ stageIndex: 1, status: "offered", offersInStage: 1, offers: [offer({ stageIndex: 1, expiresAt: T0 + 90_000 })] });
    expect(nextStep(r, at(T0 + 60_000))).toMatchObject({ kind: "withdraw-offers" });
  });

  it("waits in the queue past the last stage, offering one at a time, then expires with a callback", () => {
    const queued = request({ stageIndex: stages.length, stageStartedAt: T0 + 170_000 });
    expect(nextStep(queued, at(T0 + 170_000))).toEqual({
      kind: "offer",
      pool: "queue",
      reach: "national",
      offerKind: "push",
      count: 1,
      expiresAt: T0 + 190_000,
    });
    expect(nextStep(queued, at(T0 + 170_000, true))).toEqual({ kind: "wait", until: T0 + 300_000 });
    expect(nextStep(queued, at(T0 + 300_000))).toEqual({ kind: "expire-request" });
  });

  it("keeps the queue within the funnel's widest pool: a branch-only funnel queues in the branch", () => {
    const branchOnly = stagesFor({ ...policy, stages: policy.stages.filter((s) => s.pool === "dedicated" || s.pool === "branch") }, "auto");
    expect(queueReach(stages)).toBe("national");
    expect(queueReach(branchOnly)).toBe("branch");
    // The dedicated stage alone still queues at the branch: never a queue that reaches nobody.
    expect(queueReach(stagesFor({ ...policy, stages: [policy.stages[0]!] }, "auto"))).toBe("branch");
    // Order in the funnel does not matter: the widest pool does.
    expect(queueReach(stagesFor({ ...policy, stages: [...policy.stages].reverse() }, "auto"))).toBe("national");
    const queued = request({ stageIndex: branchOnly.length, stageStartedAt: T0 });
    expect(nextStep(queued, { stages: branchOnly, policy, now: T0, noCandidates: false })).toMatchObject({ kind: "offer", pool: "queue", reach: "branch" });
  });

  it("tells whether an advisor is inside a pool for a request", () => {
    const facts = request().facts;
    const inBranch = { id: "adv_2", branchId: "brn_1", region: "north" };
    const inRegion = { id: "adv_3", branchId: "brn_2", region: "north" };
    const elsewhere = { id: "adv_4", branchId: "brn_9", region: "south" };
    expect(["dedicated", "branch", "region", "national"].map((pool) => withinPool(pool as never, inBranch, facts))).toEqual([false, true, true, true]);
    expect(["dedicated", "branch", "region", "national"].map((pool) => withinPool(pool as never, inRegion, facts))).toEqual([false, false, true, true]);
    expect(["dedicated", "branch", "region", "national"].map((pool) => withinPool(pool as never, elsewhere, facts))).toEqual([false, false, false, true]);
    expect(withinPool("dedicated", { ...elsewhere, id: "adv_d" }, facts)).toBe(true);
  });

  it("has nothing to do for assigned or terminal requests", () => {
    for (const status of ["assigned", "completed", "cancelled", "expired"] as const) expect(nextStep(request({ status }), at(T0))).toEqual({ kind: "done" });
  });

  it("forces the mode of every non-dedicated stage for dispatch and grab requests", () => {
    expect(stagesFor(policy, "grab").map((s) => s.mode)).toEqual(["dispatch", "grab", "grab", "grab"]);
    expect(stagesFor(policy, "dispatch").map((s) => s.mode)).toEqual(["dispatch", "dispatch", "dispatch", "dispatch"]);
    expect(stagesFor(policy, "auto").map((s) => s.mode)).toEqual(["dispatch", "dispatch", "grab", "grab"]);
    // The shipped default grabs at every stage after the dedicated one (see DEFAULT_DISPATCH_POLICY).
    expect(stagesFor(DEFAULT_DISPATCH_POLICY, "auto").map((s) => s.mode)).toEqual(["dispatch", "grab", "grab", "grab"]);
    expect(stagesFor(DEFAULT_DISPATCH_POLICY, "dispatch").map((s) => s.mode)).toEqual(["dispatch", "dispatch", "dispatch", "dispatch"]);
  });

  it("orders the queue by priority then age, with ageing so nothing starves", () => {
    const old = request({ facts: { ...request().facts, createdAt: T0, priority: 0 } });
    const urgent = request({ facts: { ...request().facts, createdAt: T0 + 30_000, priority: 1 } });
    const muchLater = request({ facts: { ...request().facts, createdAt: T0 + 10 * 60_000, priority: 5 } });
    expect(queueScore(urgent.facts, policy)).toBeLessThan(queueScore(old.facts, policy));
    // Priority 5 is worth 5 minutes of waiting: a priority-0 request 10 minutes older still goes first.
    expect(queueScore(old.facts, policy)).toBeLessThan(queueScore(muchLater.facts, policy));
  });
});

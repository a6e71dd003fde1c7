/**
 * The engine's behaviour, run on every store adapter against a real database: dispatch, grab, the
 * funnel on a manual clock, eligibility, capacity, cancellation, persistence and events.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../../platform/database.ts";
import type { MatchingStore } from "../../../matching/store/port.ts";
import { DEFAULT_DISPATCH_POLICY } from "../../../matching/domain/policy.ts";
import { createWorld, type World } from "./world.ts";

export interface EngineHarness {
  openDatabase(): Promise<Database>;
  openStore(): Promise<MatchingStore>;
}

const SECOND = 1000;

export function engineContract(name: string, harness: EngineHarness): void {
  describe(name, () => {
    let db: Database;
    const stores: MatchingStore[] = [];
    beforeAll(async () => {
      db = await harness.openDatabase();
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await db?.close();
    });
    async function world(options?: { presenceTtlMs?: number }): Promise<World> {
      const store = await harness.openStore();
      stores.push(store);
      return createWorld(db, store, options);
    }
    async function available(w: World, ...ids: string[]) {
      for (const id of ids) expect((await w.engine.setPresence(id, "available")).ok).toBe(true);
    }
    async function openOffers(w: World, requestId: string) {
      return ((await w.store.getRequest(requestId))?.offers ?? []).filter((o) => o.outcome === null);
    }
    const create = (w: World, clientId: string, extra: Partial<Parameters<World["engine"]["createRequest"]>[0]> = {}) =>
      w.engine.createRequest({
        clientId,
        topic: "pension",
        requiredLicence: "fund_sales",
        channel: "chat",
        mode: "auto",
        language: null,
        priority: 0,
        ...extra,
      });

    it("dispatch: offers the best eligible advisor, who accepts; completion frees the slot", async () => {
      const w = await world();
      const a = await w.addAdvisor();
      await available(w, a);
      const client = await w.addClient();
      const created = await create(w, client);
      expect(created.ok).toBe(true);
      const requestId = created.ok ? created.requestId : "";
      const [offer] = await openOffers(w, requestId);
      expect(offer).toMatchObject({ advisorId: a, kind: "push" });

      const accepted = await w.engine.accept(offer!.id, a);
      expect(accepted).toEqual({ ok: true, requestId, duplicate: false });
      expect(await w.engine.accept(offer!.id, a)).toEqual({ ok: true, requestId, duplicate: true });
      expect((await w.store.getAdvisor(a))!.supply).toMatchObject({ active: 1, pendingPush: 0 });
      const row = await db.prisma.serviceRequest.findUniqueOrThrow({ where: { id: requestId }, include: { offers: true } });
      expect(row).toMatchObject({ status: "assigned", assignedAdvisorId: a });
      expect(row.offers[0]).toMatchObject({ outcome: "accepted", advisorId: a });
      expect(row.offers[0]!.eligibility).toMatchObject({ licence: { kind: "fund_sales" }, suitability: { advisorMaxRisk: 5, clientRisk: 2 } });

      expect(await w.engine.complete(requestId, a)).toEqual({ ok: true, duplicate: false });
      expect((await w.store.getAdvisor(a))!.supply.active).toBe(0);
      expect((await db.prisma.serviceRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe("completed");
      expect(w.events.filter((e) => e.requestId === requestId).map((e) => e.type)).toEqual([
        "request.created",
        "request.stage_changed", // no dedicated advisor: straight to the branch
        "request.decided",
        "offer.sent",
        "offer.accepted",
        "request.assigned",
        "request.completed",
      ]);
      expect(w.eventsOf("offer.accepted")[0]).toMatchObject({ latencyMs: 0 });
      // Every announced event is in the durable event log, in order, written with its state change.
      const logged = await db.prisma.eventLog.findMany({ where: { requestId }, orderBy: { seq: "asc" } });
      expect(logged.map((e) => e.id)).toEqual(w.events.filter((e) => e.requestId === requestId).map((e) => e.id));
      expect(logged.find((e) => e.type === "offer.accepted")).toMatchObject({ advisorId: a, branchId: w.branchId });
    });

    it("never offers an ineligible advisor, and says which rule excluded whom", async () => {
      const w = await world();
      const now = w.clock.now();
      const expired = await w.addAdvisor({ licences: [{ kind: "fund_sales", validUntil: now - 1 }] });
      const wrongKind = await w.addAdvisor({ licences: [{ kind: "futures" }] });
      const lowScope = await w.addAdvisor({ suitabilityMaxRisk: 1 });
      const wrongLanguage = await w.addAdvisor({ languages: ["fr"] });
      const away = await w.addAdvisor();
      const good = await w.addAdvisor();
      await available(w, expired, wrongKind, lowScope, wrongLanguage, good);
      await w.engine.setPresence(away, "away");
      const client = await w.addClient({ riskLevel: 3 });
      const created = await create(w, client, { language: "en" });
      const requestId = created.ok ? created.requestId : "";
      expect((await openOffers(w, requestId)).map((o) => o.advisorId)).toEqual([good]);
      // The index already leaves out wrong kinds, scopes, languages and absent advisors; the rules
      // catch what an index cannot know, such as a licence whose validity ended.
      const decided = w.eventsOf("request.decided").find((e) => e.requestId === requestId);
      expect(decided).toMatchObject({ offered: [good], excluded: { LICENCE: [expired] } });
    });

    it("a decline moves on at once and the decliner is never offered the request again", async () => {
      const w = await world();
      const a = await w.addAdvisor();
      const b = await w.addAdvisor();
      await available(w, a, b);
      const created = await create(w, await w.addClient());
      const requestId = created.ok ? created.requestId : "";
      const first = (await openOffers(w, requestId))[0]!;
      expect(await w.engine.decline(first.id, first.advisorId)).toEqual({ ok: true, requestId });
      const second = (await openOffers(w, requestId))[0]!;
      expect(second.advisorId).not.toBe(first.advisorId);
      await w.engine.decline(second.id, second.advisorId);
      // Both declined: the branch stage has nobody left, and neither is offered it again anywhere.
      const offers = (await w.store.getRequest(requestId))!.offers;
      expect(offers.filter((o) => o.advisorId === first.advisorId)).toHaveLength(1);
      expect(offers.filter((o) => o.advisorId === second.advisorId)).toHaveLength(1);
      expect((await w.store.getAdvisor(first.advisorId))!.supply.pendingPush).toBe(0);
    });

    it("grab: broadcasts to every eligible advisor; the first accept wins, the rest lose the race", async () => {
      const w = await world();
      const ids = [await w.addAdvisor(), await w.addAdvisor(), await w.addAdvisor()];
      await available(w, ...ids);
      const created = await create(w, await w.addClient(), { mode: "grab" });
      const requestId = created.ok ? created.requestId : "";
      const offers = await openOffers(w, requestId);
      expect(offers.map((o) => o.kind)).toEqual(["broadcast", "broadcast", "broadcast"]);
      const results = await Promise.all(offers.map((o) => w.engine.accept(o.id, o.advisorId)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.reason)).toEqual(["ALREADY_TAKEN", "ALREADY_TAKEN"]);
      const request = (await w.store.getRequest(requestId))!;
      expect(request.offers.map((o) => o.outcome).sort()).toEqual(["accepted", "lost_race", "lost_race"]);
      expect(w.eventsOf("offer.withdrawn").filter((e) => e.requestId === requestId)).toHaveLength(2);
      const actives = await Promise.all(ids.map(async (id) => (await w.store.getAdvisor(id))!.supply.active));
      expect(actives.sort()).toEqual([0, 0, 1]);
    });

    it("holds no more outstanding push offers than an advisor has free slots", async () => {
      const w = await world();
      const only = await w.addAdvisor({ maxConcurrent: 1 });
      await available(w, only);
      const r1 = await create(w, await w.addClient(), { mode: "dispatch" });
      const r2 = await create(w, await w.addClient(), { mode: "dispatch" });
      const id1 = r1.ok ? r1.requestId : "";
      const id2 = r2.ok ? r2.requestId : "";
      expect(await openOffers(w, id1)).toHaveLength(1);
      expect(await openOffers(w, id2)).toHaveLength(0);
      expect((await w.store.getAdvisor(only))!.supply).toMatchObject({ pendingPush: 1, active: 0 });
    });

    it("answers accepts with the precise reason", async () => {
      const w = await world();
      const a = await w.addAdvisor({ maxConcurrent: 1 });
      const b = await w.addAdvisor();
      await available(w, a, b);
      const grab = await create(w, await w.addClient(), { mode: "grab" });
      const grabId = grab.ok ? grab.requestId : "";
      const offers = await openOffers(w, grabId);
      const offerA = offers.find((o) => o.advisorId === a)!;
      const offerB = offers.find((o) => o.advisorId === b)!;
      expect(await w.engine.accept(offerA.id, b)).toEqual({ ok: false, reason: "NOT_YOURS" });
      expect(await w.engine.accept("off_unknown", a)).toEqual({ ok: false, reason: "NOT_FOUND" });

      // a (one slot) takes a dispatched request, then tries the broadcast it was sent earlier.
      const busy = await create(w, await w.addClient(), { mode: "dispatch" });
      const busyOffer = (await openOffers(w, busy.ok ? busy.requestId : ""))[0]!;
      expect(busyOffer.advisorId).toBe(a); // equal scores: the tie-break by id picks a
      expect((await w.engine.accept(busyOffer.id, a)).ok).toBe(true);
      expect(await w.engine.accept(offerA.id, a)).toEqual({ ok: false, reason: "AT_CAPACITY" });
      expect((await w.store.getAdvisor(a))!.supply.active).toBe(1);

      await w.engine.setPresence(b, "away");
      expect(await w.engine.accept(offerB.id, b)).toEqual({ ok: false, reason: "NOT_ELIGIBLE" });
      await w.engine.setPresence(b, "available");
      w.clock.advance(31 * SECOND);
      expect(await w.engine.accept(offerB.id, b)).toEqual({ ok: false, reason: "OFFER_EXPIRED" });
      expect((await w.store.getAdvisor(b))!.supply.active).toBe(0);
    });

    it("cancel withdraws open offers and frees their slots; cancel after assignment frees the advisor", async () => {
      const w = await world();
      const a = await w.addAdvisor();
      await available(w, a);
      const client = await w.addClient();
      const created = await create(w, client);
      const requestId = created.ok ? created.requestId : "";
      expect((await w.store.getAdvisor(a))!.supply.pendingPush).toBe(1);
      expect(await w.engine.cancel(requestId, "cli_someone_else")).toEqual({ ok: false, reason: "NOT_YOURS" });
      expect(await w.engine.cancel(requestId, client)).toEqual({ ok: true, duplicate: false });
      expect(await w.engine.cancel(requestId, client)).toEqual({ ok: true, duplicate: true });
      expect((await w.store.getAdvisor(a))!.supply.pendingPush).toBe(0);
      expect((await db.prisma.offer.findMany({ where: { requestId } })).map((o) => o.outcome)).toEqual(["withdrawn"]);

      const again = await create(w, client);
      const againId = again.ok ? again.requestId : "";
      const offer = (await openOffers(w, againId))[0]!;
      await w.engine.accept(offer.id, a);
      expect(await w.engine.cancel(againId, client)).toEqual({ ok: true, duplicate: false });
      expect((await w.store.getAdvisor(a))!.supply.active).toBe(0);
      expect(await w.engine.complete(againId, a)).toEqual({ ok: false, reason: "INVALID_STATE" });
    });

    it("funnel on a manual clock: dedicated, branch offers, region grab, national grab, queue, expiry with callback", async () => {
      const w = await world({ presenceTtlMs: 3_600_000 });
      const otherBranch = await w.addBranch(); // same region
      const dedicated = await w.addAdvisor();
      const branchAdvisors = [await w.addAdvisor(), await w.addAdvisor(), await w.addAdvisor(), await w.addAdvisor()];
      const regionAdvisors = [await w.addAdvisor({ branchId: otherBranch }), await w.addAdvisor({ branchId: otherBranch })];
      await available(w, dedicated, ...branchAdvisors, ...regionAdvisors);
      const client = await w.addClient({ dedicatedAdvisorId: dedicated });
      const t0 = w.clock.now();
      const created = await create(w, client);
      const requestId = created.ok ? created.requestId : "";
      const sent = () => w.eventsOf("offer.sent").filter((e) => e.requestId === requestId) as Array<Extract<World["events"][number], { type: "offer.sent" }>>;
      const stageAt = async () => (await w.store.getRequest(requestId))!.stageIndex;

      // t=0: the dedicated advisor, who ignores it.
      expect(sent().map((e) => [e.advisorId, e.stage, e.at - t0])).toEqual([[dedicated, "dedicated", 0]]);
      w.clock.advance(19 * SECOND);
      await w.engine.tick();
      expect(sent()).toHaveLength(1);
      // t=20 s: timed out; branch offers follow one by one, each for 20 s, three at most.
      for (let i = 1; i <= 3; i++) {
        w.clock.advance(i === 1 ? SECOND : 20 * SECOND);
        await w.engine.tick();
        expect(sent()).toHaveLength(1 + i);
        expect(sent()[i]).toMatchObject({ stage: "branch", kind: "push", at: t0 + 20 * SECOND * i });
      }
      expect(
        new Set(
          sent()
            .slice(1)
            .map((e) => e.advisorId),
        ).size,
      ).toBe(3);
      expect(
        sent()
          .slice(1)
          .every((e) => branchAdvisors.includes(e.advisorId)),
      ).toBe(true);
      // t=80 s: the branch stage ends; the region grab reaches everyone in the region not yet tried.
      w.clock.advance(20 * SECOND);
      await w.engine.tick();
      const regionRound = sent().filter((e) => e.stage === "region");
      expect(regionRound.every((e) => e.kind === "broadcast" && e.at === t0 + 80 * SECOND)).toBe(true);
      const tried = new Set(
        sent()
          .slice(0, 4)
          .map((e) => e.advisorId),
      );
      expect(regionRound.map((e) => e.advisorId).sort()).toEqual([...branchAdvisors, ...regionAdvisors, dedicated].filter((id) => !tried.has(id)).sort());
      expect(await stageAt()).toBe(2);
      // t=110 s: the grab window closes; national finds nobody new; the request waits in the queue.
      w.clock.advance(30 * SECOND);
      await w.engine.tick();
      expect(await stageAt()).toBe(4);
      expect(await w.store.listQueue(10)).toContain(requestId);
      expect((await w.store.getRequest(requestId))!.status).toBe("pending");
      expect(await w.store.getDeadline(requestId)).toBe(t0 + 300 * SECOND);
      // t=299 s: still waiting; t=300 s: expired with a callback booked.
      w.clock.set(t0 + 299 * SECOND);
      await w.engine.tick();
      expect((await w.store.getRequest(requestId))!.status).toBe("pending");
      w.clock.set(t0 + 300 * SECOND);
      await w.engine.tick();
      const row = await db.prisma.serviceRequest.findUniqueOrThrow({ where: { id: requestId } });
      expect(row).toMatchObject({ status: "expired", callbackRequested: true });
      expect(row.expiredAt?.getTime()).toBe(t0 + 300 * SECOND);
      expect(w.eventsOf("request.expired").filter((e) => e.requestId === requestId)).toHaveLength(1);
      expect((await w.store.listLiveRequestIds()).includes(requestId)).toBe(false);
    });

    it("a waiting request is offered as soon as an eligible advisor becomes available", async () => {
      const w = await world();
      const client = await w.addClient();
      const created = await create(w, client);
      const requestId = created.ok ? created.requestId : "";
      expect(await w.store.listQueue(10)).toContain(requestId); // nobody at all: straight to the queue
      const late = await w.addAdvisor();
      await available(w, late);
      const [offer] = await openOffers(w, requestId);
      expect(offer).toMatchObject({ advisorId: late, kind: "push" });
      expect((await w.engine.accept(offer!.id, late)).ok).toBe(true);
      expect(await w.store.listQueue(10)).not.toContain(requestId);
    });

    it("the queue reaches no further than the funnel: branch-only queues in the branch, a funnel ending nationally queues nationally", async () => {
      const w = await world({ presenceTtlMs: 3_600_000 });
      const branchOnly = DEFAULT_DISPATCH_POLICY.stages.filter((s) => s.pool === "dedicated" || s.pool === "branch");
      await w.setPolicy({ stages: branchOnly });
      const elsewhere = await w.addBranch();
      const far = await w.addAdvisor({ branchId: elsewhere });
      await available(w, far);
      const first = await create(w, await w.addClient());
      const firstId = first.ok ? first.requestId : "";
      // Nobody in the branch: the request runs its two stages at once and waits in the queue.
      expect(await w.store.listQueue(10)).toContain(firstId);
      expect(await openOffers(w, firstId)).toEqual([]);
      // The advisor of the other branch reports in again (which serves the queue): still not offered.
      await available(w, far);
      w.clock.advance(30 * SECOND);
      await w.engine.tick();
      expect((await w.store.getRequest(firstId))!.offers).toEqual([]);
      // The same request under a funnel of as many stages that ends nationally reaches nationally:
      // the next report offers it. (As many stages, so the queued request's stage index still means the queue.)
      await w.setPolicy({ stages: [branchOnly[0]!, { ...branchOnly[1]!, pool: "national" }] });
      await available(w, far);
      const [wide] = await openOffers(w, firstId);
      expect(wide).toMatchObject({ advisorId: far, kind: "push" });
      expect((await w.engine.accept(wide!.id, far)).ok).toBe(true);
      expect(await db.prisma.offer.findUniqueOrThrow({ where: { id: wide!.id } })).toMatchObject({ stage: "national", outcome: "accepted" });
      // Branch-only again: the branch's own advisor, once in, is offered the queued request.
      await w.setPolicy({ stages: branchOnly });
      const second = await create(w, await w.addClient());
      const secondId = second.ok ? second.requestId : "";
      expect(await w.store.listQueue(10)).toContain(secondId);
      const near = await w.addAdvisor();
      await available(w, near);
      const [own] = await openOffers(w, secondId);
      expect(own).toMatchObject({ advisorId: near, kind: "push" });
      expect((await w.engine.accept(own!.id, near)).ok).toBe(true);
      // The offer is recorded in the pool it was made in.
      expect(await db.prisma.offer.findUniqueOrThrow({ where: { id: own!.id } })).toMatchObject({ stage: "branch", outcome: "accepted" });
    });

    it("a push offer finds a free advisor beyond the first window of candidates, when the window is full of pending pushes", async () => {
      const w = await world({ presenceTtlMs: 3_600_000 });
      // 40 advisors of one request each, in index order (never assigned: by id, so by creation).
      const advisors: string[] = [];
      for (let i = 0; i < 40; i++) advisors.push(await w.addAdvisor({ maxConcurrent: 1 }));
      await available(w, ...advisors);
      const offered: string[] = [];
      for (let i = 0; i < 40; i++) {
        const created = await create(w, await w.addClient());
        expect(created.ok).toBe(true);
        const open = await openOffers(w, created.ok ? created.requestId : "");
        // Each one a push at the branch stage: the 33rd onwards too, though the first 32 advisors the
        // index returns are each full with a pending push by then.
        expect(open.map((o) => o.kind)).toEqual(["push"]);
        expect((await w.store.getRequest(created.ok ? created.requestId : ""))!.stageIndex).toBe(1);
        offered.push(open[0]!.advisorId);
      }
      expect(new Set(offered).size).toBe(40);
      expect(offered.sort()).toEqual([...advisors].sort());
    });

    it("idempotency: the same key and body return the same request; another body conflicts", async () => {
      const w = await world();
      const client = await w.addClient();
      const first = await create(w, client, { idempotencyKey: "k1", requestHash: "h1" });
      const replay = await create(w, client, { idempotencyKey: "k1", requestHash: "h1" });
      const conflict = await create(w, client, { idempotencyKey: "k1", requestHash: "h2" });
      expect(first.ok && replay.ok && replay.requestId === first.requestId && !replay.created).toBe(true);
      expect(conflict).toEqual({ ok: false, reason: "IDEMPOTENCY_CONFLICT" });
      expect(await db.prisma.serviceRequest.count({ where: { clientId: client } })).toBe(1);
    });
  });
}

/**
 * Property test: random interleavings of presence changes, new requests, offers, accepts, declines,
 * timeouts, cancels, completions and licence expiries, checked after every step against the engine's
 * invariants. Runs on every store adapter against a real database.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../../platform/database.ts";
import type { LicenceKind, Presence } from "../../../matching/domain/types.ts";
import type { MatchingStore } from "../../../matching/store/port.ts";
import { createWorld, type World } from "./world.ts";

export interface HistoryHarness {
  openDatabase(): Promise<Database>;
  openStore(): Promise<MatchingStore>;
  numRuns: number;
}

type Action =
  | { type: "presence"; advisor: number; presence: Presence }
  | { type: "request"; client: number; licence: LicenceKind; mode: "auto" | "dispatch" | "grab"; language: string | null; priority: number }
  | { type: "accept"; pick: number }
  /** Every open offer of one request accepted at once: the race path. */
  | { type: "acceptRace"; pick: number }
  | { type: "decline"; pick: number }
  | { type: "time"; seconds: number }
  | { type: "cancel"; pick: number }
  | { type: "complete"; pick: number }
  | { type: "expireLicence"; advisor: number };

const ADVISORS = 4;
const CLIENTS = 3;
const KINDS: LicenceKind[] = ["fund_sales", "futures"];

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("presence" as const),
      advisor: fc.nat(ADVISORS - 1),
      presence: fc.constantFrom<Presence>("available", "available", "away", "offline"),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant("request" as const),
      client: fc.nat(CLIENTS - 1),
      licence: fc.constantFrom(...KINDS),
      mode: fc.constantFrom("auto" as const, "dispatch" as const, "grab" as const),
      language: fc.constantFrom(null, "en", "zh"),
      priority: fc.nat(3),
    }),
  },
  { weight: 4, arbitrary: fc.record({ type: fc.constant("accept" as const), pick: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("acceptRace" as const), pick: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("decline" as const), pick: fc.nat(50) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant("time" as const), seconds: fc.constantFrom(1, 5, 19, 20, 31, 61, 120) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("cancel" as const), pick: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("complete" as const), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("expireLicence" as const), advisor: fc.nat(ADVISORS - 1) }) },
);

interface Model {
  advisors: string[];
  clients: string[];
  requests: string[];
  /** What the test itself knows about each advisor, independent of the engine. */
  presence: Map<string, Presence>;
  heartbeatAt: Map<string, number>;
  licenceExpired: Map<string, Set<LicenceKind>>;
  violations: string[];
}

async function buildWorld(db: Database, store: MatchingStore, seed: number): Promise<{ world: World; model: Model }> {
  const world = await createWorld(db, store, { presenceTtlMs: 45_000 });
  const model: Model = { advisors: [], clients: [], requests: [], presence: new Map(), heartbeatAt: new Map(), licenceExpired: new Map(), violations: [] };
  for (let i = 0; i < ADVISORS; i++) {
    const id = await world.addAdvisor({
      maxConcurrent: 1 + ((seed + i) % 2),
      languages: i % 2 ? ["en"] : ["en", "zh"],
      suitabilityMaxRisk: 2 + ((seed + i) % 4),
      licences: i % 3 === 2 ? [{ kind: "futures" }] : [{ kind: "fund_sales" }, { kind: "futures" }],
    });
    model.advisors.push(id);
    model.presence.set(id, "offline");
    model.licenceExpired.set(id, new Set());
  }
  for (let i = 0; i < CLIENTS; i++) model.clients.push(await world.addClient({ riskLevel: 1 + ((seed + i) % 5), language: i % 2 ? "zh" : "en" }));

  // Invariant 3, checked at the moment of each offer from the test's own model of the world.
  world.bus.subscribe(async (event) => {
    if (event.type !== "offer.sent") return;
    const request = await store.getRequest(event.requestId);
    const advisor = await store.getAdvisor(event.advisorId);
    const now = world.clock.now();
    const why: string[] = [];
    if (!request || !advisor) why.push("unknown request or advisor");
    else {
      if (model.presence.get(event.advisorId) !== "available") why.push("not available");
      if (now - (model.heartbeatAt.get(event.advisorId) ?? -Infinity) >= 45_000) why.push("heartbeat lapsed");
      if (model.licenceExpired.get(event.advisorId)!.has(request.facts.requiredLicence)) why.push("licence expired");
      if (!advisor.profile.licences.some((l) => l.kind === request.facts.requiredLicence)) why.push("no licence of the kind");
      if (advisor.profile.suitabilityMaxRisk < request.facts.riskLevel) why.push("unsuitable");
      if (request.facts.language && !advisor.profile.languages.includes(request.facts.language)) why.push("language");
      const earlier = request.offers.filter((o) => o.advisorId === event.advisorId && o.id !== event.offerId);
      if (earlier.some((o) => o.outcome === "declined" || o.outcome === "timed_out")) why.push("re-offered after decline or timeout");
      if (advisor.supply.active + advisor.supply.pendingPush > advisor.profile.maxConcurrent) why.push("over capacity");
    }
    if (why.length) model.violations.push(`offer ${event.offerId} to ${event.advisorId}: ${why.join(", ")}`);
  });
  return { world, model };
}

async function checkInvariants(db: Database, world: World, model: Model): Promise<string[]> {
  const problems = [...model.violations];
  const live = new Set(await world.store.listLiveRequestIds());
  for (const advisorId of model.advisors) {
    const advisor = (await world.store.getAdvisor(advisorId))!;
    const { active, pendingPush } = advisor.supply;
    if (active > advisor.profile.maxConcurrent) problems.push(`${advisorId}: active ${active} > max ${advisor.profile.maxConcurrent}`);
    if (active + pendingPush > advisor.profile.maxConcurrent) problems.push(`${advisorId}: active+pending ${active + pendingPush} > max`);
    if (active !== advisor.assignments.length || pendingPush !== advisor.pushHolds.length) problems.push(`${advisorId}: counts disagree with holds`);
    // Capacity accounting: every slot taken belongs to a live assignment or an open push offer.
    for (const requestId of advisor.assignments) {
      const request = await world.store.getRequest(requestId);
      if (request?.status !== "assigned" || request.assignedAdvisorId !== advisorId)
        problems.push(`${advisorId}: holds a slot for ${requestId}, which is ${request?.status} to ${request?.assignedAdvisorId}`);
    }
    for (const offerId of advisor.pushHolds) {
      const open = (await Promise.all(model.requests.map((id) => world.store.getRequest(id)))).some((r) =>
        r?.offers.some((o) => o.id === offerId && o.outcome === null && o.advisorId === advisorId),
      );
      if (!open) problems.push(`${advisorId}: push hold ${offerId} has no open offer`);
    }
  }
  const rows = await db.prisma.serviceRequest.findMany({ where: { id: { in: model.requests } }, include: { offers: true } });
  for (const row of rows) {
    const request = await world.store.getRequest(row.id);
    const accepted = row.offers.filter((o) => o.outcome === "accepted");
    if (accepted.length > 1) problems.push(`${row.id}: ${accepted.length} accepted offers`);
    if (accepted[0] && row.assignedAdvisorId !== accepted[0].advisorId) problems.push(`${row.id}: assignee disagrees with the accepted offer`);
    const terminal = ["completed", "cancelled", "expired"].includes(row.status);
    if (request && request.status !== row.status) problems.push(`${row.id}: store says ${request.status}, database says ${row.status}`);
    if (terminal && live.has(row.id)) problems.push(`${row.id}: terminal (${row.status}) yet live`);
    if ((row.status === "pending" || row.status === "offered") && (await world.store.getDeadline(row.id)) === null)
      problems.push(`${row.id}: live (${row.status}) without a deadline`);
    if (row.status === "assigned" && request) {
      const holder = await world.store.getAdvisor(row.assignedAdvisorId!);
      if (!holder?.assignments.includes(row.id)) problems.push(`${row.id}: assigned but not in ${row.assignedAdvisorId}'s assignments`);
    }
  }
  return problems;
}

async function apply(world: World, model: Model, action: Action): Promise<void> {
  const { engine, store, clock } = world;
  const openOffers = async () => {
    const all = await Promise.all(model.requests.map((id) => store.getRequest(id)));
    return all.flatMap((r) => r?.offers.filter((o) => o.outcome === null) ?? []);
  };
  const pick = <T>(items: T[], n: number): T | undefined => (items.length ? items[n % items.length] : undefined);
  switch (action.type) {
    case "presence": {
      const id = model.advisors[action.advisor]!;
      model.presence.set(id, action.presence);
      model.heartbeatAt.set(id, clock.now());
      await engine.setPresence(id, action.presence);
      break;
    }
    case "request": {
      const created = await engine.createRequest({
        clientId: model.clients[action.client]!,
        topic: "t",
        requiredLicence: action.licence,
        channel: "chat",
        mode: action.mode,
        language: action.language,
        priority: action.priority,
      });
      if (created.ok) model.requests.push(created.requestId);
      break;
    }
    case "accept":
    case "decline": {
      const offer = pick(await openOffers(), action.pick);
      if (offer) await (action.type === "accept" ? engine.accept(offer.id, offer.advisorId) : engine.decline(offer.id, offer.advisorId));
      break;
    }
    case "acceptRace": {
      const offers = await openOffers();
      const target = pick(offers, action.pick)?.requestId;
      await Promise.all(offers.filter((o) => o.requestId === target).map((o) => engine.accept(o.id, o.advisorId)));
      break;
    }
    case "time":
      clock.advance(action.seconds * 1000);
      await engine.tick();
      break;
    case "cancel": {
      const requestId = pick(model.requests, action.pick);
      const request = requestId ? await store.getRequest(requestId) : null;
      if (request) await engine.cancel(request.facts.id, request.facts.clientId);
      break;
    }
    case "complete": {
      const requests = (await Promise.all(model.requests.map((id) => store.getRequest(id)))).filter((r) => r?.status === "assigned");
      const request = pick(requests, action.pick);
      if (request) await engine.complete(request.facts.id, request.assignedAdvisorId!);
      break;
    }
    case "expireLicence": {
      const id = model.advisors[action.advisor]!;
      const kind = KINDS[action.advisor % KINDS.length]!;
      model.licenceExpired.get(id)!.add(kind);
      await world.expireLicence(id, kind);
      break;
    }
  }
}

export function historyProperty(name: string, harness: HistoryHarness): void {
  describe(name, () => {
    let db: Database;
    beforeAll(async () => {
      db = await harness.openDatabase();
    });
    afterAll(async () => {
      await db?.close();
    });

    it(
      `keeps every invariant over ${harness.numRuns} random histories`,
      async () => {
        let seed = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(actionArb, { minLength: 4, maxLength: 14 }), async (actions) => {
            const store = await harness.openStore();
            try {
              const { world, model } = await buildWorld(db, store, seed++);
              for (const [step, action] of actions.entries()) {
                await apply(world, model, action);
                const problems = await checkInvariants(db, world, model);
                if (problems.length) throw new Error(`after step ${step} (${JSON.stringify(action)}):\n${problems.join("\n")}`);
              }
            } finally {
              await store.close();
            }
          }),
          { numRuns: harness.numRuns, endOnFailure: true },
        );
        expect(seed).toBeGreaterThanOrEqual(harness.numRuns);
      },
      20 * 60_000,
    );
  });
}

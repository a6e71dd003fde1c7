/**
 * Detached subscribers under a burst of events (the overload run): socket notifications and surge
 * alerts must keep up, or their backlog grows without bound and offers reach advisors after they
 * expired. In-process fakes for the database, store and fan-out; no services needed.
 */
import { describe, expect, it } from "vitest";
import { createLogger } from "../../core/logger.ts";
import type { DomainEvent } from "../../matching/events.ts";
import { EventBus } from "../../matching/events.ts";
import type { Envelope, Fanout } from "../../api/realtime/fanout.ts";
import { wireDemandAlerts } from "../../app/realtime/demandAlerts.ts";
import { wireNotifications } from "../../app/realtime/notifications.ts";

const logger = createLogger("silent");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let seq = 0;
function event<T extends DomainEvent["type"]>(type: T, requestId: string, extra: Record<string, unknown> = {}): DomainEvent {
  return { id: `evt_${seq++}`, at: Date.now(), type, requestId, branchId: "brn_1", ...extra } as unknown as DomainEvent;
}

/** `publishMs`: how long a publish takes (a Redis round trip), 0 for none. */
function recordingFanout(publishMs = 0): Fanout & { sent: Envelope[]; at: number[] } {
  const sent: Envelope[] = [];
  const at: number[] = [];
  return {
    sent,
    at,
    publish: async (e) => {
      if (publishMs) await sleep(publishMs);
      sent.push(e);
      at.push(Date.now());
    },
    onEnvelope: () => {},
    close: async () => {},
  };
}

/** Just enough of Prisma for loadRequestView: one $queryRaw that answers a row after `delayMs`. */
function slowViews(delayMs: number) {
  const reads: string[] = [];
  const prisma = {
    async $queryRaw(_strings: TemplateStringsArray, requestId: string) {
      reads.push(requestId);
      await sleep(delayMs);
      const created = new Date("2026-01-01T00:00:00Z");
      return [
        {
          id: requestId,
          clientId: `cli_${requestId}`,
          branchId: "brn_1",
          status: "pending",
          mode: "auto",
          stage: "branch",
          topic: "t",
          requiredLicence: "fund_sales",
          channel: "chat",
          callbackRequested: false,
          liveRev: 1,
          createdAt: created,
          assignedAt: null,
          completedAt: null,
          cancelledAt: null,
          expiredAt: null,
          offers: [],
          assignedAdvisor: null,
        },
      ];
    },
    serviceRequest: {
      findUnique: async ({ where }: { where: { id: string } }) => ({
        clientId: `cli_${where.id}`,
        topic: "t",
        requiredLicence: "fund_sales",
        channel: "chat",
        createdAt: new Date("2026-03-02T10:00:00Z"),
      }),
    },
  };
  return { prisma: prisma as never, reads };
}

describe("the event bus's detached lanes", () => {
  it("do not hold one request's events behind another request's slow one, and keep each request's order", async () => {
    const bus = new EventBus();
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    bus.subscribe(
      async (e) => {
        if (e.requestId === "req_slow" && e.type === "request.created") await gate;
        handled.push(`${e.requestId}:${e.type}`);
      },
      { detached: true, lanes: 8 },
    );
    // Ids that land in different lanes (the lane is a hash of the id): pick one that does.
    const others = Array.from({ length: 20 }, (_, i) => `req_other${i}`);
    await bus.publish(event("request.created", "req_slow"));
    await bus.publish(event("request.stage_changed", "req_slow"));
    for (const id of others) await bus.publish(event("request.created", id));
    await sleep(20);
    // Requests in other lanes went ahead; the slow one's second event waits for its first.
    expect(handled.filter((h) => h.startsWith("req_other")).length).toBeGreaterThan(10);
    expect(handled.filter((h) => h.startsWith("req_slow"))).toEqual([]);
    release();
    await bus.drain();
    expect(handled.filter((h) => h.startsWith("req_slow"))).toEqual(["req_slow:request.created", "req_slow:request.stage_changed"]);
    expect(handled).toHaveLength(22);
  });
});

describe("socket notifications under a backlog", () => {
  it("deliver offers while client updates wait on slow publishes, and skip an offer that expired before its turn", async () => {
    const bus = new EventBus();
    const fanout = recordingFanout(30);
    const { prisma } = slowViews(0);
    wireNotifications(bus, fanout, prisma, logger);
    // 20 requests created at once: each created event publishes the client's update (30 ms each).
    for (let i = 0; i < 20; i++)
      await bus.publish(
        event("request.created", `req_${i}`, { clientId: `cli_${i}`, topic: "t", requiredLicence: "fund_sales", channel: "chat", priority: 0 }),
      );
    const sentAt = Date.now();
    await bus.publish(
      event("offer.sent", "req_19", {
        offerId: "off_live",
        advisorId: "adv_1",
        kind: "push",
        stage: "branch",
        expiresAt: Date.now() + 60_000,
        eligibility: {},
      }),
    );
    await bus.publish(
      event("offer.sent", "req_18", { offerId: "off_gone", advisorId: "adv_2", kind: "push", stage: "branch", expiresAt: Date.now() - 1, eligibility: {} }),
    );
    await bus.drain();
    const offers = fanout.sent.filter((e) => e.message.type === "offer");
    expect(offers.map((e) => (e.message.offer as { offerId: string }).offerId)).toEqual(["off_live"]);
    // One at a time, the offer waited for the 20 publishes (600 ms) ahead of it; in lanes, for the few in its own.
    const offerAt = fanout.at[fanout.sent.findIndex((e) => e.message.type === "offer")]!;
    expect(offerAt - sentAt).toBeLessThan(300);
  });

  it("publish one client update stub for updates that queued up behind each other, and read no view (the delivering process does)", async () => {
    const bus = new EventBus();
    const fanout = recordingFanout(30);
    const { prisma, reads } = slowViews(0);
    wireNotifications(bus, fanout, prisma, logger);
    await bus.publish(event("request.created", "req_a", { clientId: "cli_a", topic: "t", requiredLicence: "fund_sales", channel: "chat", priority: 0 }));
    await bus.publish(event("request.stage_changed", "req_a", { stage: "region", stageIndex: 1 }));
    await bus.publish(event("request.stage_changed", "req_a", { stage: "national", stageIndex: 2 }));
    await bus.drain();
    // The first was being published when the others arrived; the second is superseded by the third.
    const stub = { to: ["cli_a"], message: { type: "request.updated", requestId: "req_a" }, render: true };
    expect(fanout.sent.filter((e) => e.message.type === "request.updated")).toEqual([stub, stub]);
    expect(reads).toEqual([]);
  });

  it("send every advisor of a broadcast their offer but the client one update, after the last", async () => {
    const bus = new EventBus();
    const fanout = recordingFanout(1);
    const { prisma, reads } = slowViews(5);
    wireNotifications(bus, fanout, prisma, logger);
    // A grab's decision as the engine publishes it: request.decided, then one offer.sent per advisor.
    const advisors = Array.from({ length: 8 }, (_, i) => `adv_${i}`);
    await bus.publish(event("request.decided", "req_g", { stage: "region", offered: advisors, excluded: {} }));
    for (const advisorId of advisors)
      await bus.publish(
        event("offer.sent", "req_g", {
          offerId: `off_${advisorId}`,
          advisorId,
          kind: "broadcast",
          stage: "region",
          expiresAt: Date.now() + 60_000,
          eligibility: {},
        }),
      );
    await bus.drain();
    expect(fanout.sent.filter((e) => e.message.type === "offer").map((e) => e.to)).toEqual(advisors.map((a) => [a]));
    expect(reads).toEqual([]);
    // The client, from the request's row (no request.created seen here).
    expect(fanout.sent.filter((e) => e.message.type === "request.updated").map((e) => e.to)).toEqual([["cli_req_g"]]);
  });

  it("update the client when an offer ends, and still when the offer had expired before its turn", async () => {
    const bus = new EventBus();
    const fanout = recordingFanout();
    const { prisma, reads } = slowViews(0);
    wireNotifications(bus, fanout, prisma, logger);
    await bus.publish(
      event("offer.sent", "req_e", { offerId: "off_old", advisorId: "adv_1", kind: "push", stage: "branch", expiresAt: Date.now() - 1, eligibility: {} }),
    );
    await bus.drain();
    await bus.publish(event("offer.declined", "req_e", { offerId: "off_old", advisorId: "adv_1" }));
    await bus.drain();
    await bus.publish(event("offer.timed_out", "req_e", { offerId: "off_old", advisorId: "adv_1" }));
    await bus.drain();
    await bus.publish(event("offer.withdrawn", "req_e", { offerId: "off_old", advisorId: "adv_1", outcome: "withdrawn" }));
    await bus.drain();
    // No offer message for the expired offer, but the client heard of every change.
    expect(fanout.sent.filter((e) => e.message.type === "offer")).toEqual([]);
    expect(reads).toEqual([]);
    expect(fanout.sent.filter((e) => e.message.type === "request.updated")).toHaveLength(4);
  });
});

describe("surge alerts under a burst of requests", () => {
  it("check the queue once per branch and licence at a time, not once per request, and still alert", async () => {
    const bus = new EventBus();
    const fanout = recordingFanout();
    let checks = 0;
    let waiting = 0;
    const engine = {
      async demandFor(_branchId: string, requiredLicence: "fund_sales") {
        checks++;
        await sleep(20);
        return { requiredLicence, queueDepth: waiting, surge: waiting > 10 };
      },
    };
    const prisma = { advisor: { findMany: async () => [{ id: "adv_away" }] } };
    const leases = new Set<string>();
    const store = {
      getAdvisors: async () => [{ profile: { id: "adv_away" }, supply: { presence: "away", active: 0 } }],
      acquireLease: async (name: string) => !leases.has(name) && !!leases.add(name),
    };
    const unwire = wireDemandAlerts({
      bus,
      prisma: prisma as never,
      engine: engine as never,
      store: store as never,
      fanout,
      clock: { now: () => Date.now() },
      logger,
    });
    for (let i = 0; i < 50; i++) {
      waiting++;
      await bus.publish(event("request.created", `req_${i}`, { clientId: "cli", topic: "t", requiredLicence: "fund_sales", channel: "chat", priority: 0 }));
    }
    await bus.drain();
    for (let i = 0; i < 50 && fanout.sent.length === 0; i++) await sleep(20);
    await unwire();
    expect(checks).toBeLessThanOrEqual(3);
    expect(fanout.sent.map((e) => [e.to, e.message.type, e.message.waiting])).toEqual([[["adv_away"], "demand.alert", 50]]);
  });
});

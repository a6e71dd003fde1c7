/**
 * Replays a simulated day's trace (simulation/behaviour.ts TraceEntry) on the server's own matching
 * wiring: createMatchingRuntime (app/matching.ts: the journal, its persister applying batches, the
 * records adapter, the presence history) on a fresh migrated PGlite, the clock moved by hand. Each
 * action runs at its time through the engine as the API calls it; deadlines fire by tick() at the
 * store's earliest deadline first, as the simulator does (and as the 250 ms sweeper does, to the
 * millisecond). Advisors on shift report "available" every 20 s, as their phones do (the server's
 * 45 s presence TTL never lapses them, and each report offers them queued requests, as it does in
 * the simulator while the queue holds any).
 */
import { ManualClock } from "../../../core/clock.ts";
import { createLogger } from "../../../core/logger.ts";
import { createMatchingRuntime } from "../../../app/matching.ts";
import { openPglite } from "../../../platform/database.ts";
import { applyMigrations } from "../../../prisma/tools/migrations.ts";
import { branchKpis, type BranchKpis } from "../../../reporting/kpis.ts";
import { HEARTBEAT_MS, type TraceEntry } from "../../../simulation/behaviour.ts";
import { DAY_MS } from "../../../simulation/day.ts";
import type { PolicyUnderTest } from "../../../simulation/policies.ts";
import type { Population } from "../../../simulation/population.ts";
import { writePopulation } from "../../../simulation/records.ts";
import type { MatchingRuntime } from "../../../matching/runtime.ts";

export async function replayOnServerWiring(population: Population, put: PolicyUnderTest, trace: TraceEntry[]): Promise<BranchKpis[]> {
  const database = await openPglite();
  const clock = new ManualClock(population.dayStart);
  let runtime: MatchingRuntime | undefined;
  try {
    await applyMigrations(database.migrationAdapter);
    await writePopulation(database.prisma, population, put.policy);
    const backends = { database, matchingStore: "memory" as const, committedMigrations: [], close: async () => {} };
    runtime = await createMatchingRuntime(backends, createLogger("silent"), { clock });
    await play(runtime, clock, population, trace);
    await runtime.persister.drainAll();
    // The presence history is written without the engine waiting: let the last rows land.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const kpis: BranchKpis[] = [];
    for (const branch of population.branches) {
      const result = await branchKpis(database.prisma, {
        branchId: branch.id,
        from: new Date(population.dayStart),
        to: new Date(population.dayStart + DAY_MS),
        bucket: "hour",
      });
      if (!result.ok) throw new Error(result.reason);
      kpis.push(result.kpis);
    }
    return kpis;
  } finally {
    await runtime?.stop();
    await database.close();
  }
}

/** At one instant the simulator's agenda runs shifts and arrivals, then the heartbeat, then everything scheduled during the day. */
const RANK: Record<TraceEntry["action"] | "heartbeat", number> = { presence: 0, create: 0, heartbeat: 1, accept: 2, decline: 2, complete: 2, cancel: 2 };

async function play(runtime: MatchingRuntime, clock: ManualClock, population: Population, trace: TraceEntry[]): Promise<void> {
  const { engine, store } = runtime;
  const requestOf = new Map<string, string>();
  const arrivals = new Map(population.arrivals.map((a) => [a.clientId, a]));
  const onShift = new Set<string>();
  // Every advisor's phone reports every 20 s on the grid from midnight, as the simulator's do.
  const shifts = population.advisors.filter((a) => !a.noShow).flatMap((a) => a.shifts);
  const first = Math.min(...shifts.map((s) => s.startMs));
  const last = Math.max(...shifts.map((s) => s.endMs));
  const beats: Array<{ at: number; action: "heartbeat" }> = [];
  for (let at = population.dayStart + Math.ceil((first - population.dayStart) / HEARTBEAT_MS) * HEARTBEAT_MS; at <= last; at += HEARTBEAT_MS) {
    beats.push({ at, action: "heartbeat" });
  }
  // A stable sort: the trace keeps its own order.
  const script = [...trace, ...beats].sort((a, b) => a.at - b.at || RANK[a.action] - RANK[b.action]);
  const earliestDeadline = async () => {
    let earliest: number | null = null;
    for (const id of requestOf.values()) {
      const at = await store.getDeadline(id);
      if (at !== null && (earliest === null || at < earliest)) earliest = at;
    }
    return earliest;
  };
  for (const advisor of population.advisors) await engine.syncAdvisor(advisor.id);
  for (let i = 0; ; ) {
    const next = script[i]?.at ?? Number.POSITIVE_INFINITY;
    const deadline = await earliestDeadline();
    if (deadline === null && next === Number.POSITIVE_INFINITY) return;
    if (deadline !== null && deadline <= next) {
      clock.set(Math.max(clock.now(), deadline));
      await engine.tick();
      continue;
    }
    const entry = script[i++]!;
    clock.set(Math.max(clock.now(), entry.at));
    if (entry.action === "heartbeat") {
      for (const advisor of population.advisors) if (onShift.has(advisor.id)) await engine.setPresence(advisor.id, "available");
    } else await perform(runtime, entry, requestOf, arrivals, onShift);
  }
}

async function perform(
  { engine, store }: MatchingRuntime,
  entry: TraceEntry,
  requestOf: Map<string, string>,
  arrivals: Map<string, Population["arrivals"][number]>,
  onShift: Set<string>,
): Promise<void> {
  const fail = (what: unknown) => {
    throw new Error(`replay diverged at ${new Date(entry.at).toISOString()} ${JSON.stringify(entry)}: ${JSON.stringify(what)}`);
  };
  switch (entry.action) {
    case "create": {
      const a = arrivals.get(entry.clientId)!;
      const created = await engine.createRequest({
        clientId: a.clientId,
        topic: "simulated",
        requiredLicence: a.requiredLicence,
        channel: "chat",
        mode: "auto",
        language: a.language,
        priority: 0,
      });
      if (!created.ok) fail(created);
      else requestOf.set(entry.clientId, created.requestId);
      return;
    }
    case "presence":
      if (entry.presence === "available") onShift.add(entry.advisorId);
      else onShift.delete(entry.advisorId);
      await engine.setPresence(entry.advisorId, entry.presence);
      return;
    case "accept":
    case "decline": {
      const request = await store.getRequest(requestOf.get(entry.clientId)!);
      const offer = request?.offers[entry.offerIndex];
      if (!offer || offer.advisorId !== entry.advisorId) return fail({ offers: request?.offers.map((o) => [o.advisorId, o.outcome]) });
      const outcome = entry.action === "accept" ? await engine.accept(offer.id, entry.advisorId) : await engine.decline(offer.id, entry.advisorId);
      if (!outcome.ok) fail(outcome);
      return;
    }
    case "complete": {
      const outcome = await engine.complete(requestOf.get(entry.clientId)!, entry.advisorId);
      if (!outcome.ok) fail(outcome);
      return;
    }
    case "cancel": {
      const outcome = await engine.cancel(requestOf.get(entry.clientId)!, entry.clientId);
      if (!outcome.ok) fail(outcome);
      return;
    }
  }
}

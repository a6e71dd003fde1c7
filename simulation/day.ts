/**
 * One simulated day under one policy: the production MatchingEngine (its funnel, eligibility,
 * ranking and records adapter) on the in-memory matching store and a record of its own, driven on
 * a virtual clock. Nothing waits on real time: the loop moves the clock to whichever comes first,
 * the next thing on the agenda (an arrival, a shift starting or ending, an advisor's answer, a
 * completion, a client giving up) or the earliest deadline the live store holds, and there it runs
 * the action or the engine's tick(), which fires offer expiries and stage timeouts as the
 * production sweeper does.
 *
 * The record: the production adapter, writing in batches (recorder.ts), with two reads from memory
 * (fastRecords.ts); neither changes a decision.
 *
 * The people: the behaviour model (behaviour.ts), or a fixed script in its place (script.ts,
 * scriptedBehaviour.ts), which the scripted fidelity test also plays on the real server.
 *
 * Presence: simulated advisors' phones heartbeat without fail while on shift, so the engine runs
 * with a presence TTL longer than the day; shift start and end are explicit presence changes.
 */
import { ManualClock } from "../core/clock.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { MatchingEngine } from "../matching/engine/engine.ts";
import { EventBus, type DomainEvent } from "../matching/events.ts";
import type { PresenceHistory } from "../matching/presenceHistory.ts";
import { createPrismaMatchingRecords } from "../matching/records/prisma.ts";
import { prismaSqlRunner } from "../platform/sql.ts";
import { createMemoryMatchingStore } from "../matching/store/memory/store.ts";
import { createPrismaPresenceHistory } from "../reporting/presenceHistory.ts";
import { Agenda } from "./agenda.ts";
import { AdvisorBehaviour, type Happening, type TraceEntry } from "./behaviour.ts";
import type { DayScript } from "./script.ts";
import { ScriptedBehaviour, type ScriptedHappening } from "./scriptedBehaviour.ts";
import type { PolicyUnderTest } from "./policies.ts";
import type { Population } from "./population.ts";
import { fastRecords } from "./fastRecords.ts";
import { EVERY_MS, incentiveRunner } from "./incentives.ts";
import { batchRecorder } from "./recorder.ts";
import { createSampler, deriveSeed } from "./sampling.ts";

export const DAY_MS = 86_400_000;
/** Longer than any simulated day: see the header on presence. */
const PRESENCE_TTL_MS = 2 * DAY_MS;

export interface DayCounters {
  /** Engine calls made, by kind (for the run's log, not a KPI). */
  arrivals: number;
  ticks: number;
  accepts: number;
  declines: number;
  cancels: number;
  refusedCreates: number;
}

/** Presence changes are written without the engine waiting (as in production); the day waits for them before reporting. */
function trackedHistory(prisma: PrismaClient): { history: PresenceHistory; flush: () => Promise<void> } {
  const inner = createPrismaPresenceHistory(prisma);
  const pending: Array<Promise<void>> = [];
  return {
    history: {
      record(change) {
        const written = inner.record(change);
        pending.push(written);
        return written;
      },
    },
    flush: async () => {
      await Promise.all(pending);
    },
  };
}

/**
 * Runs the day on a record that holds the population (records.ts), then returns when every request
 * has ended and every presence change is written. `onProgress` gets the share of the day simulated.
 */
export async function simulateDay(
  prisma: PrismaClient,
  population: Population,
  put: PolicyUnderTest,
  seed: number,
  onProgress: (done: number) => void = () => {},
  trace?: (entry: TraceEntry) => void,
  /** People as this script says instead of the behaviour model (script.ts; `population` is then populationOf(script), and there is no trace). */
  script?: DayScript,
): Promise<DayCounters> {
  if (script) {
    return runDay<ScriptedHappening>(
      prisma,
      population,
      put,
      onProgress,
      (engine, clock, agenda, flushRecord) => new ScriptedBehaviour(engine, clock, agenda, script, flushRecord),
    );
  }
  return runDay<Happening>(prisma, population, put, onProgress, (engine, clock, agenda) => {
    const behaviour = new AdvisorBehaviour(engine, clock, agenda, population, put.incentives, createSampler(deriveSeed(seed, "behaviour")));
    if (trace) behaviour.trace = trace;
    return behaviour;
  });
}

/** What plays the day's people: the behaviour model (behaviour.ts) or a script (scriptedBehaviour.ts). */
interface DayBehaviour<H> {
  scheduleDay(): void;
  observe(event: DomainEvent): void;
  perform(item: H, counters: DayCounters): Promise<void>;
}

type PeopleOf<H> = (engine: MatchingEngine, clock: ManualClock, agenda: Agenda<H>, flushRecord: () => Promise<void>) => DayBehaviour<H>;

async function runDay<H extends { kind: string }>(
  prisma: PrismaClient,
  population: Population,
  put: PolicyUnderTest,
  onProgress: (done: number) => void,
  people: PeopleOf<H>,
): Promise<DayCounters> {
  const clock = new ManualClock(population.dayStart);
  const store = createMemoryMatchingStore();
  const bus = new EventBus((error) => {
    throw error;
  });
  const { history, flush } = trackedHistory(prisma);
  const faults: unknown[] = [];
  const fast = fastRecords(createPrismaMatchingRecords({ prisma, sql: prismaSqlRunner(prisma) }), population);
  const records = fast.records;
  const recorder = batchRecorder((entries) => records.applyJournal(entries));
  const engine = new MatchingEngine({
    store,
    records,
    recorder,
    bus,
    clock,
    presenceTtlMs: PRESENCE_TTL_MS,
    // Policies do not change during a simulated day.
    policyTtlMs: 2 * DAY_MS,
    presenceHistory: history,
    onError: (error) => faults.push(error),
  });

  const agenda = new Agenda<H>();
  const behaviour = people(engine, clock, agenda, () => recorder.flush());
  // Requests not yet ended: the only ones that can hold a deadline.
  const open = new Set<string>();
  bus.subscribe((event: DomainEvent) => {
    if (event.type === "request.created") open.add(event.requestId);
    else if (event.type === "request.completed" || event.type === "request.cancelled" || event.type === "request.expired") open.delete(event.requestId);
    fast.observe(event);
    behaviour.observe(event);
  });
  for (const advisor of population.advisors) await engine.syncAdvisor(advisor.id);
  behaviour.scheduleDay();
  const runIncentives = put.ruleSet ? incentiveRunner(prisma, store, clock) : null;
  if (runIncentives)
    for (let at = population.dayStart + EVERY_MS; at <= population.dayStart + DAY_MS; at += EVERY_MS) agenda.add(at, { kind: "incentives" } as H);

  const counters: DayCounters = { arrivals: 0, ticks: 0, accepts: 0, declines: 0, cancels: 0, refusedCreates: 0 };
  let reported = -1;
  for (;;) {
    const deadline = await earliestDeadline(engine, open);
    const next = agenda.peekAt();
    if (deadline === null && next === Number.POSITIVE_INFINITY) break;
    if (deadline !== null && deadline <= next) {
      clock.set(Math.max(clock.now(), deadline));
      await engine.tick();
      counters.ticks++;
    } else {
      const { at, item } = agenda.pop()!;
      clock.set(Math.max(clock.now(), at));
      if (item.kind === "incentives" && runIncentives) {
        // The consumer reads the event log: what the batches hold goes in first.
        await recorder.flush();
        await runIncentives();
      } else await behaviour.perform(item, counters);
    }
    if (faults.length) throw faults[0];
    const tenth = Math.min(10, Math.floor(((clock.now() - population.dayStart) / DAY_MS) * 10));
    if (tenth > reported) {
      reported = tenth;
      onProgress(tenth / 10);
    }
  }
  await recorder.flush();
  await runIncentives?.();
  await flush();
  if (reported < 10) onProgress(1);
  return counters;
}

async function earliestDeadline(engine: MatchingEngine, open: Set<string>): Promise<number | null> {
  let earliest: number | null = null;
  for (const id of open) {
    const at = await engine.store.getDeadline(id);
    if (at !== null && (earliest === null || at < earliest)) earliest = at;
  }
  return earliest;
}

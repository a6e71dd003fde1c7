/**
 * Plays a DayScript (simulation/script.ts) on the real server: an in-process app with the client and
 * advisor route groups behind the real authentication, on its own embedded database, the matching
 * runtime on a ManualClock. Every person's action is an HTTP call with that person's token: presence
 * and heartbeats, asking, accepting and declining offers, completing, cancelling, rating.
 *
 * Time: the clock moves to whichever comes first, the next scripted action or the earliest deadline
 * the live store holds for the day's requests, where the engine's tick() runs, as the 250 ms sweeper
 * would (to the millisecond). Ties go to the deadline, then to what was scheduled first, as in the
 * simulator (day.ts), and actions are scheduled in the same order: presence changes, arrivals,
 * heartbeats, then what the day's events call for. This side is written apart from
 * simulation/scriptedBehaviour.ts on purpose: it reads the same script, and shares no code with it.
 */
import { branchKpis, type BranchKpis } from "../../../reporting/kpis.ts";
import { ManualClock } from "../../../core/clock.ts";
import type { PrismaClient } from "../../../generated/prisma/client.ts";
import type { DispatchPolicy } from "../../../matching/domain/policy.ts";
import type { Presence } from "../../../matching/domain/types.ts";
import { Agenda } from "../../../simulation/agenda.ts";
import { DAY_MS } from "../../../simulation/day.ts";
import { writePopulation } from "../../../simulation/records.ts";
import { populationOf, type DayScript } from "../../../simulation/script.ts";
import { openTestDeps } from "../../support/testApp.ts";
import { HttpPeople, type Step } from "./httpPeople.ts";

export interface ServerDay {
  /** The KPIs of every branch of the script over its day, by hour. */
  kpis: BranchKpis[];
  /** HTTP calls made, by what they did. */
  calls: Record<string, number>;
}

export async function playScriptOnServer(script: DayScript, policy: DispatchPolicy): Promise<ServerDay> {
  const clock = new ManualClock(script.dayStart);
  const test = await openTestDeps("adx-scripted-", { clock });
  try {
    const { deps } = test;
    const prisma = deps.backends.database.prisma;
    const { engine, store, persister } = deps.matching;
    await writePopulation(prisma, populationOf(script), policy);
    // Setup, not the day: the directory's advisors loaded at the day's start, as the simulator does.
    for (const advisor of script.advisors) await engine.syncAdvisor(advisor.id);
    const agenda = new Agenda<Step>();
    const people = new HttpPeople(deps, clock, agenda, script);
    people.scheduleDay();

    for (;;) {
      const deadline = await earliestDeadline(store, people.requestIds());
      const next = agenda.peekAt();
      if (deadline === null && next === Number.POSITIVE_INFINITY) break;
      if (deadline !== null && deadline <= next) {
        clock.set(Math.max(clock.now(), deadline));
        await engine.tick();
        continue;
      }
      const { at, item } = agenda.pop()!;
      clock.set(Math.max(clock.now(), at));
      await people.perform(item);
    }

    await persister.drainAll();
    await presenceHistoryWritten(prisma, transitions(script));
    const kpis: BranchKpis[] = [];
    for (const branch of script.branches) {
      const result = await branchKpis(prisma, { branchId: branch.id, from: new Date(script.dayStart), to: new Date(script.dayStart + DAY_MS), bucket: "hour" });
      if (!result.ok) throw new Error(result.reason);
      kpis.push(result.kpis);
    }
    return { kpis, calls: people.calls };
  } finally {
    await test.close();
  }
}

async function earliestDeadline(store: { getDeadline(id: string): Promise<number | null> }, requestIds: Iterable<string>): Promise<number | null> {
  let earliest: number | null = null;
  for (const id of requestIds) {
    const due = await store.getDeadline(id);
    if (due !== null && (earliest === null || due < earliest)) earliest = due;
  }
  return earliest;
}

/** How many presence rows the script makes: its changes that differ from the advisor's last (offline at first). */
function transitions(script: DayScript): number {
  const last = new Map<string, Presence>();
  let count = 0;
  for (const change of [...script.presence].sort((a, b) => a.at - b.at)) {
    if ((last.get(change.advisorId) ?? "offline") !== change.presence) count++;
    last.set(change.advisorId, change.presence);
  }
  return count;
}

/** The presence history is written without the engine waiting (matching/presenceHistory.ts): wait for its rows. */
async function presenceHistoryWritten(prisma: PrismaClient, expected: number): Promise<void> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    if ((await prisma.advisorPresenceChange.count()) >= expected) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the presence history holds ${await prisma.advisorPresenceChange.count()} rows, not ${expected}`);
}

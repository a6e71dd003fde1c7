/**
 * A server process's resident memory, read from /proc (Linux), and the wait for it to settle after
 * a change, so a figure is not taken halfway through an allocation burst or a garbage collection.
 */
import { readFile } from "node:fs/promises";

/** VmRSS of the process in KB. */
export async function residentKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const within = (values: number[], share: number) => Math.max(...values) - Math.min(...values) <= share * Math.max(...values);

/** RSS sampled every 500 ms until four samples in a row stay within 0.5% (or `maxMs` passes). */
async function settledResidentKb(pid: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  const samples = [await residentKb(pid)];
  while (Date.now() < deadline && !(samples.length >= 4 && within(samples.slice(-4), 0.005))) {
    await sleep(500);
    samples.push(await residentKb(pid));
  }
  return samples[samples.length - 1]!;
}

/**
 * The process's live memory: a full garbage collection (`collectGarbage`), then RSS once settled,
 * repeated until two rounds agree within 1% (at most 6), because V8 hands freed pages back to the
 * system over a few seconds and a server may still be finishing start-up work.
 */
export async function liveResidentKb(pid: number, collectGarbage: () => Promise<void>): Promise<number> {
  let previous = Number.NaN;
  for (let round = 0; round < 6; round++) {
    await collectGarbage();
    const current = await settledResidentKb(pid, 5_000);
    if (within([previous, current], 0.01)) return current;
    previous = current;
  }
  return previous;
}

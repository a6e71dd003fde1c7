/**
 * The real services integration tests talk to. Unreachable services make their suites skip with the
 * reason, except under CI=true, where an unreachable service is a failure.
 */
import pg from "pg";
import { createClient } from "redis";
import { describe, inject, it } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** This run's Redis namespace (testKeyPrefix), given by the global setup. */
    testRunTag: string;
  }
}

export const TEST_DATABASE_URL = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/** null when PostgreSQL answers, otherwise why not. */
export async function probePostgres(url = TEST_DATABASE_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    return `PostgreSQL unreachable at ${url.replace(/:[^:@/]*@/, ":***@")}: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** null when Redis answers, otherwise why not. */
export async function probeRedis(url = TEST_REDIS_URL): Promise<string | null> {
  const client = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return `Redis unreachable at ${url}: ${(error as Error).message}`;
  } finally {
    if (client.isOpen) await client.quit().catch(() => {});
  }
}

/**
 * describe() for a suite that needs a service. `problem` is the probe's answer: null runs the suite;
 * a reason skips it with that reason in its name, or fails it under CI.
 */
export function describeWithServices(name: string, problems: Array<string | null>, body: () => void): void {
  const problem = problems.filter(Boolean).join("; ");
  if (!problem) {
    describe(name, body);
  } else if (IN_CI) {
    describe(name, () => {
      it("has its services reachable (required under CI=true)", () => {
        throw new Error(problem);
      });
    });
  } else {
    // Only off CI (a developer without PostgreSQL or Redis running): the skipped suite's name carries
    // the probe's own answer, e.g. "PostgreSQL unreachable at postgresql://...: connect ECONNREFUSED",
    // which the reader can check by trying that URL. Under CI=true the branch above fails instead.
    describe.skip(`${name} [skipped: ${problem}]`, body);
  }
}

/** A short random tag for ids and key prefixes, so concurrent tests never share rows or keys. */
export function uniqueTag(): string {
  return Math.random().toString(36).slice(2, 10);
}

/**
 * A fresh Redis key prefix in this run's own namespace, `test:<run>:<tag>:`. The global setup's
 * teardown removes the run's keys (removeRunKeys), so a suite whose servers stop without resetting
 * their store leaves nothing behind, and a run never touches the keys of another run on the same
 * Redis. Outside vitest's workers (a script importing this) the run is "adhoc" and nothing sweeps it.
 */
export function testKeyPrefix(): string {
  return `${runKeyPattern(runTag())}${uniqueTag()}:`;
}

/** The prefix every key of run `run` starts with. */
export function runKeyPattern(run: string): string {
  return `test:${run}:`;
}

function runTag(): string {
  try {
    return inject("testRunTag");
  } catch {
    return "adhoc";
  }
}

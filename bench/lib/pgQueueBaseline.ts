/**
 * The throughput baseline: the plainest durable work queue PostgreSQL offers. Each job is enqueued
 * with an INSERT and claimed with `SELECT … FOR UPDATE SKIP LOCKED` feeding an UPDATE (one
 * statement, one commit, the idiom pg-boss and graphile-worker use), by `concurrency` workers, each
 * on its own connection, in a scratch database of its own on the same server as our API's.
 */
import pg from "pg";
import { runClosedLoop, type ClosedLoopResult } from "./closedLoop.ts";
import { createScratchDatabase } from "./scratchDatabase.ts";

const SCHEMA = `
  CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    claimed_by int,
    created_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz
  );
  CREATE INDEX jobs_queued ON jobs (id) WHERE status = 'queued';
`;

const ENQUEUE = `INSERT INTO jobs (payload) VALUES ($1)`;
const CLAIM = `
  UPDATE jobs SET status = 'claimed', claimed_by = $1, claimed_at = now()
  WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id`;

export interface PgQueueOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  log?(line: string): void;
}

/** Jobs enqueued and claimed per second; one job is one INSERT plus one claim. */
export async function measurePgEnqueueClaim(serverUrl: string, options: PgQueueOptions): Promise<ClosedLoopResult> {
  const database = await createScratchDatabase(serverUrl, { migrate: false });
  const pool = new pg.Pool({ connectionString: database.url, max: options.concurrency });
  // pool.end() can resolve while idle connections are still closing; the DROP … WITH (FORCE) then
  // terminates them, which is expected and must not crash the run.
  pool.on("error", () => {});
  try {
    await pool.query(SCHEMA);
    const job = async (worker: number) => {
      await pool.query(ENQUEUE, [JSON.stringify({ topic: "bench", worker })]);
      // Another worker may claim this worker's job first; every claim takes some job, so it evens out.
      // Under READ COMMITTED a claim can come back empty when the row it picked was claimed and
      // committed in between (the re-check fails, and LIMIT 1 does not look further): try again.
      while ((await pool.query(CLAIM, [worker])).rowCount !== 1);
    };
    await runClosedLoop({ concurrency: options.concurrency, durationMs: options.warmupMs, iteration: job });
    return await runClosedLoop({ concurrency: options.concurrency, durationMs: options.durationMs, iteration: job, log: options.log });
  } finally {
    await pool.end();
    await database.drop();
  }
}

/**
 * The people a load test needs, made through the API as an operator would: one branch whose policy
 * pushes each request to the best advisor in the branch, advisors with licences and free capacity
 * (made available), and clients, each with a signed token.
 */
import type { Principal } from "../../api/auth/principal.ts";
import { forEachBounded } from "./concurrency.ts";
import { expectStatus } from "./httpJson.ts";
import { benchToken } from "./tokens.ts";

/** What every bench request asks for, and every bench advisor is licensed for. */
export const BENCH_LICENCE = "securities_advisory";

export interface BenchPerson {
  id: string;
  token: string;
}

export interface BenchDirectory {
  branchId: string;
  advisors: BenchPerson[];
  clients: BenchPerson[];
}

export interface DirectoryOptions {
  advisors: number;
  /** Each advisor's maxConcurrent. */
  maxConcurrent: number;
  clients: number;
  log(line: string): void;
}

/** Directory writes in flight at once: enough to be quick, few enough not to queue on the pool. */
const SETUP_CONCURRENCY = 8;

/**
 * One stage, push dispatch within the branch: the path every request takes when the branch has a
 * free advisor. The surge threshold is out of reach because the bench measures steady dispatch, not
 * the surge alerts (which would otherwise fire on every request while 16 wait at once).
 */
const benchPolicy = (current: Record<string, unknown>) => ({
  ...current,
  stages: [{ pool: "branch", mode: "dispatch", timeoutSeconds: 60, maxOffers: 3 }],
  surgeThreshold: 10_000,
});

export async function createBenchDirectory(baseUrl: string, options: DirectoryOptions): Promise<BenchDirectory> {
  const admin = await benchToken({ sub: "admin_bench", role: "admin" });
  const call = (method: string, path: string, body?: unknown, token = admin) =>
    expectStatus(method === "POST" ? 201 : 200, baseUrl, method, path, { token, body });

  const { id: branchId } = await call("POST", "/v1/branches", { name: "Bench branch", region: "bench" });
  const { policy } = await call("GET", `/v1/branches/${branchId}/dispatch-policy`);
  await call("PUT", `/v1/branches/${branchId}/dispatch-policy`, benchPolicy(policy));

  const advisors = await createPeople(options.advisors, "advisors", options.log, async (i) => {
    const { id } = await call("POST", "/v1/advisors", {
      branchId,
      name: `Bench advisor ${i}`,
      languages: ["en"],
      maxConcurrent: options.maxConcurrent,
      suitabilityMaxRisk: 5,
      licences: [{ kind: BENCH_LICENCE, number: `BENCH-${i}`, validUntil: "2099-01-01T00:00:00.000Z" }],
    });
    return { sub: id, role: "advisor", branchId };
  });
  const clients = await createPeople(options.clients, "clients", options.log, async (i) => {
    const { id } = await call("POST", "/v1/clients", { branchId, name: `Bench client ${i}`, riskLevel: 1, language: "en" });
    return { sub: id, role: "client" };
  });
  return { branchId, advisors, clients };
}

async function createPeople(count: number, what: string, log: (line: string) => void, create: (index: number) => Promise<Principal>): Promise<BenchPerson[]> {
  const people: BenchPerson[] = new Array(count);
  const step = Math.max(1, Math.ceil(count / 4));
  await forEachBounded(
    count,
    SETUP_CONCURRENCY,
    async (i) => {
      const principal = await create(i);
      people[i] = { id: principal.sub, token: await benchToken(principal) };
    },
    (done) => {
      if (done % step === 0 || done === count) log(`  created ${done}/${count} ${what}`);
    },
  );
  return people;
}

/**
 * Marks every advisor available, which is also the heartbeat, and keeps doing so every 20 s until the
 * returned function is called: presence lapses after 45 s without one, and a phase may run longer.
 */
export async function keepAdvisorsAvailable(baseUrl: string, advisors: BenchPerson[]): Promise<() => void> {
  const beat = () =>
    forEachBounded(advisors.length, SETUP_CONCURRENCY, (i) =>
      expectStatus(200, baseUrl, "PUT", "/v1/advisors/me/presence", { token: advisors[i]!.token, body: { status: "available" } }).then(() => undefined),
    );
  await beat();
  const timer = setInterval(() => void beat().catch(() => {}), 20_000);
  return () => clearInterval(timer);
}

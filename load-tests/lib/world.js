/**
 * The world a run needs, made through the public API in setup(): its own branch (in its own
 * region), dispatch policy, advisors with licences and clients. Nothing depends on demo data, and
 * nothing one run creates can be matched with another run's advisors or the demo's (see runLanguage).
 */
import { sleep } from "k6";
import { body, branchQueue, createAdvisor, createBranch, createClient, devToken, getDispatchPolicy, putDispatchPolicy } from "./api.js";

export const LICENCE_KINDS = ["securities_advisory", "fund_sales", "futures", "insurance"];

/**
 * The language every request and advisor of the run shares, e.g. "en-k3x9a0qz". Requests ask for it
 * and only this run's advisors speak it, so even the region, national and queue stages (whose pools
 * reach beyond the branch) can only offer to this run's advisors: runs against one server stay apart.
 */
export const runLanguage = (runId) => `en-${runId}`;

/**
 * Creates the run's branch, policy (`policy`: the fields that differ from the server's defaults),
 * advisors and clients and mints their tokens. Returns plain data
 * (setup()'s result is copied to every VU as JSON).
 */
export function buildWorld({ runId, script, advisors, clients, licence, maxConcurrent, policy }) {
  if (!LICENCE_KINDS.includes(licence)) throw new Error(`LICENCE=${licence}: expected one of ${LICENCE_KINDS.join(", ")}`);
  const language = runLanguage(runId);
  const adminToken = devToken({ sub: `k6-admin-${runId}`, role: "admin" });
  const branchId = createBranch(adminToken, { name: `k6 ${script} ${runId}`, region: `k6-${runId}` });
  // PUT replaces the whole document: start from the server's own defaults (what a new branch shows)
  // so the scripts name only the fields they change and never carry a stale copy of the rest.
  const current = getDispatchPolicy(adminToken, branchId);
  putDispatchPolicy(adminToken, branchId, { ...current.policy, ...policy, expectedVersion: current.version });

  // Licences must be valid at offer time; a year covers any soak. Numbers are unique per run
  // because the server refuses a (kind, number) pair registered twice.
  const validUntil = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
  const advisorList = [];
  for (let i = 0; i < advisors; i++) {
    const id = createAdvisor(adminToken, {
      branchId,
      name: `k6 advisor ${i} ${runId}`,
      languages: ["en", language],
      maxConcurrent,
      suitabilityMaxRisk: 5,
      licences: [{ kind: licence, number: `K6-${runId}-${i}`, validUntil }],
    });
    advisorList.push({ id, token: devToken({ sub: id, role: "advisor", branchId }) });
  }
  const clientList = [];
  for (let i = 0; i < clients; i++) {
    // Risk 3 is within every advisor's suitability (5), so suitability never excludes anyone here.
    const id = createClient(adminToken, { branchId, name: `k6 client ${i} ${runId}`, riskLevel: 3, language });
    clientList.push({ id, token: devToken({ sub: id, role: "client" }) });
  }
  console.log(`run ${runId}: branch ${branchId} with ${advisors} advisors (${licence}, ${maxConcurrent} concurrent each) and ${clients} clients`);
  return { runId, branchId, language, licence, adminToken, advisors: advisorList, clients: clientList };
}

/**
 * Waits until at least `count` advisors of the branch are available with no conversation in
 * progress, i.e. every one of them is eligible for the next request. False on timeout.
 */
export function waitForIdleAdvisors(adminToken, branchId, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = body(branchQueue(adminToken, branchId));
    const idle = queue?.availableAdvisors ? queue.availableAdvisors.filter((a) => a.active === 0).length : 0;
    if (idle >= count) return true;
    if (Date.now() >= deadline) return false;
    sleep(0.25);
  }
}

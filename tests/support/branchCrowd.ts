/**
 * A branch with advisors and clients made through the API, with a token for each: the cast of the
 * fault suites that put several server processes under load (processKill, sentinelFailover).
 */
import { expect } from "vitest";
import type { ApiClient } from "./apiClient.ts";
import { uniqueTag } from "./services.ts";

export interface Person {
  id: string;
  token: string;
}

/** `admin` creates them; `tokens` issues their tokens; names and licence numbers start with `letter`. */
export async function createBranchCrowd(
  admin: ApiClient,
  tokens: ApiClient,
  options: { name: string; letter: string; advisors: number; clients: number },
): Promise<{ branchId: string; advisors: Person[]; clients: Person[] }> {
  const branchId = (await admin.call("POST", "/v1/branches", { name: options.name, region: `r_${uniqueTag()}` })).body.id as string;
  const advisors: Person[] = [];
  for (let i = 0; i < options.advisors; i++) {
    const res = await admin.call("POST", "/v1/advisors", {
      branchId,
      name: `${options.letter}${i}`,
      languages: ["en"],
      maxConcurrent: 2,
      suitabilityMaxRisk: 5,
      licences: [{ kind: "fund_sales", number: `${options.letter}L-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00.000Z" }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    advisors.push({ id: res.body.id, token: await tokens.devToken(res.body.id, "advisor", branchId) });
  }
  const clients: Person[] = [];
  for (let i = 0; i < options.clients; i++) {
    const res = await admin.call("POST", "/v1/clients", { branchId, name: `C${i}`, riskLevel: 2, language: "en" });
    clients.push({ id: res.body.id, token: await tokens.devToken(res.body.id, "client") });
  }
  return { branchId, advisors, clients };
}

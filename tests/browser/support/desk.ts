/**
 * A branch of a test's own for the phone apps' tests: its own region, a funnel of one branch stage,
 * advisors made eligible for its one client (fund sales, English, any risk), created through the API
 * as admin and the branch's manager. Demo advisors are offline until an app heartbeats for them, and
 * no other branch's advisor can reach this region, so only the advisors a test signs in to an app
 * can be offered the branch's requests, and no test sees another's.
 */
import { expect } from "vitest";
import type { ApiClient } from "../../support/apiClient.ts";
import type { ConsoleServer } from "./harness.ts";

const YEAR_MS = 365 * 86_400_000;
export const DESK_LICENCE = "fund_sales";

let made = 0;
/** A name no other desk in this process has. */
export const unique = (label: string) => `${label} ${process.pid}-${++made}`;

export type DeskStage = { pool: "branch"; mode: "dispatch" | "grab"; timeoutSeconds: number; maxOffers: number };

export interface Desk {
  branchId: string;
  manager: ApiClient;
  advisors: Array<{ id: string; name: string }>;
  clientId: string;
  client: ApiClient;
}

/** Offers and grab windows last a minute, so a slow machine never sees one lapse mid-test. */
export async function makeDesk(
  server: ConsoleServer,
  admin: ApiClient,
  advisors: number,
  stage: DeskStage,
  policyChanges: Record<string, unknown> = {},
): Promise<Desk> {
  const branch = await admin.call("POST", "/v1/branches", { name: unique("Branch"), region: unique("region"), timezone: "Europe/London" });
  expect(branch.status).toBe(201);
  const branchId: string = branch.body.id;
  const manager = server.api.as(await server.api.devToken(`mgr_${branchId.replace(/^brn_/, "")}`, "manager", branchId));
  const current = await manager.call("GET", `/v1/branches/${branchId}/dispatch-policy`);
  const policy = { ...current.body.policy, stages: [stage], offerTtlSeconds: 60, grabWindowSeconds: 60, grabTopK: 20, ...policyChanges };
  expect((await manager.call("PUT", `/v1/branches/${branchId}/dispatch-policy`, policy)).status).toBe(200);
  const people: Desk["advisors"] = [];
  for (let i = 0; i < advisors; i++) {
    const name = unique("Advisor");
    const created = await manager.call("POST", "/v1/advisors", {
      branchId,
      name,
      languages: ["en"],
      maxConcurrent: 2,
      suitabilityMaxRisk: 5,
      licences: [{ kind: DESK_LICENCE, number: `FUN-${branchId}-${i}`, validUntil: new Date(Date.now() + YEAR_MS).toISOString() }],
    });
    expect(created.status).toBe(201);
    people.push({ id: created.body.id, name });
  }
  const client = await manager.call("POST", "/v1/clients", { branchId, name: unique("Client"), riskLevel: 1, language: "en" });
  expect(client.status).toBe(201);
  const clientId: string = client.body.id;
  return { branchId, manager, advisors: people, clientId, client: server.api.as(await server.api.devToken(clientId, "client")) };
}

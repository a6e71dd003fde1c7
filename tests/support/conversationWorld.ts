/**
 * The smallest world a client-advisor conversation needs, made through the API as admin: a branch
 * in a region of its own, one fund-sales advisor ("Ada Adviser", 2 slots, suitable up to risk 4,
 * licence valid until 2099-01-01) and one client ("Cy Client", risk 2), with their API clients.
 */
import { expect } from "vitest";
import type { ApiClient } from "./apiClient.ts";
import { uniqueTag } from "./services.ts";

export interface ConversationWorld {
  branchId: string;
  advisorId: string;
  clientId: string;
  advisorApi: ApiClient;
  clientApi: ApiClient;
}

export async function createConversationWorld(api: ApiClient, admin: ApiClient, branchName: string): Promise<ConversationWorld> {
  const branch = await admin.call("POST", "/v1/branches", { name: branchName, region: `r_${uniqueTag()}` });
  expect(branch.status).toBe(201);
  const branchId: string = branch.body.id;
  const advisor = await admin.call("POST", "/v1/advisors", {
    branchId,
    name: "Ada Adviser",
    languages: ["en"],
    maxConcurrent: 2,
    suitabilityMaxRisk: 4,
    licences: [{ kind: "fund_sales", number: `FS-${uniqueTag()}`, validUntil: "2099-01-01T00:00:00.000Z" }],
  });
  expect(advisor.status).toBe(201);
  const client = await admin.call("POST", "/v1/clients", { branchId, name: "Cy Client", riskLevel: 2, language: "en" });
  expect(client.status).toBe(201);
  const advisorId: string = advisor.body.id;
  const clientId: string = client.body.id;
  return {
    branchId,
    advisorId,
    clientId,
    advisorApi: api.as(await api.devToken(advisorId, "advisor", branchId)),
    clientApi: api.as(await api.devToken(clientId, "client")),
  };
}

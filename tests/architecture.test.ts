/**
 * The layer rules (.dependency-cruiser.cjs, ARCHITECTURE.md) hold on the tree, and they bite: a
 * domain module importing the API, a cycle, Prisma in the API, and the browser console importing
 * server code other than the shared schemas each fail the check.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const run = promisify(execFile);
const probes: string[] = [];

async function cruise(...targets: string[]): Promise<{ code: number; output: string }> {
  const bin = path.join(ROOT, "node_modules", ".bin", "depcruise");
  try {
    const { stdout } = await run(bin, ["--config", ".dependency-cruiser.cjs", ...targets], { cwd: ROOT });
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? 1, output: failed.stdout ?? "" };
  }
}

/** A throwaway module in the tree (removed after the test), named so nothing else imports it. */
function probe(relative: string, text: string): string {
  probes.push(relative);
  fs.writeFileSync(path.join(ROOT, relative), text);
  return relative;
}

afterEach(() => {
  for (const relative of probes.splice(0)) fs.rmSync(path.join(ROOT, relative), { force: true });
});

describe("layers (dependency-cruiser)", () => {
  it("the committed tree keeps every rule", async () => {
    const { code, output } = await cruise(
      "api",
      "app",
      "platform",
      "core",
      "matching",
      "incentives",
      "compliance",
      "directory",
      "reporting",
      "simulation",
      "prisma",
      "tools",
      "web/src",
    );
    expect(output).toMatch(/no dependency violations found/);
    expect(code).toBe(0);
  }, 60_000);

  it("a domain importing the API fails, naming the rule", async () => {
    const file = probe("matching/zzArchitectureProbe.ts", 'import { createApp } from "../api/app.ts";\nexport const probe = createApp;\n');
    const { code, output } = await cruise(file);
    expect(code).not.toBe(0);
    expect(output).toMatch(/domains-below-app-and-api: matching\/zzArchitectureProbe\.ts → api\/app\.ts/);
  }, 60_000);

  it("a domain importing the simulator fails, and so does the simulator importing the wiring", async () => {
    const domain = probe("reporting/zzArchitectureProbe.ts", 'import { runScenario } from "../simulation/compare.ts";\nexport const probe = runScenario;\n');
    const simulation = probe(
      "simulation/zzArchitectureProbe.ts",
      'import { createMatchingRuntime } from "../app/matching.ts";\nexport const probe = createMatchingRuntime;\n',
    );
    const { code, output } = await cruise(domain, simulation);
    expect(code).not.toBe(0);
    expect(output).toMatch(/simulation-is-a-tool: reporting\/zzArchitectureProbe\.ts → simulation\/compare\.ts/);
    expect(output).toMatch(/simulation-below-app-and-api: simulation\/zzArchitectureProbe\.ts → app\/matching\.ts/);
  }, 60_000);

  it("Prisma in the API fails, and so does platform reaching into a domain", async () => {
    const api = probe("api/zzArchitectureProbe.ts", 'import type { PrismaClient } from "../generated/prisma/client.ts";\nexport type Probe = PrismaClient;\n');
    const platform = probe(
      "platform/zzArchitectureProbe.ts",
      'import { newOfferId } from "../core/ids.ts";\nimport { DEFAULT_DISPATCH_POLICY } from "../matching/domain/policy.ts";\nexport const probe = [newOfferId, DEFAULT_DISPATCH_POLICY];\n',
    );
    const { code, output } = await cruise(api, platform);
    expect(code).not.toBe(0);
    expect(output).toMatch(/no-prisma-in-api: api\/zzArchitectureProbe\.ts → generated\/prisma\/client\.ts/);
    expect(output).toMatch(/platform-below-domains: platform\/zzArchitectureProbe\.ts → matching\/domain\/policy\.ts/);
  }, 60_000);

  it("the console importing server code beyond the shared schemas fails; the shared schemas pass", async () => {
    const bad = probe("web/src/zzArchitectureProbe.ts", 'import { newOfferId } from "../../core/ids.ts";\nexport const probe = newOfferId;\n');
    const good = probe(
      "web/src/zzArchitectureProbe2.ts",
      'import { DispatchPolicySchema } from "../../matching/domain/policy.ts";\nexport const probe = DispatchPolicySchema;\n',
    );
    const { code, output } = await cruise(bad, good);
    expect(code).not.toBe(0);
    expect(output).toMatch(/web-uses-only-shared-schemas: web\/src\/zzArchitectureProbe\.ts → core\/ids\.ts/);
    expect(output).not.toMatch(/zzArchitectureProbe2/);
  }, 60_000);

  it("a runtime cycle fails", async () => {
    const a = probe("core/zzCycleA.ts", 'import { b } from "./zzCycleB.ts";\nexport const a = () => b;\n');
    const b = probe("core/zzCycleB.ts", 'import { a } from "./zzCycleA.ts";\nexport const b = () => a;\n');
    const { code, output } = await cruise(a, b);
    expect(code).not.toBe(0);
    expect(output).toMatch(/no-circular/);
  }, 60_000);
});

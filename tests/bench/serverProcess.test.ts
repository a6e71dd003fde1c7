import { describe, expect, it } from "vitest";
import { startScriptNodeFlags } from "../../bench/lib/serverProcess.ts";

describe("the server's node flags, read from npm start", () => {
  it("are the flags between node and --import tsx app/main.ts", () => {
    expect(startScriptNodeFlags("node --import tsx app/main.ts")).toEqual([]);
    expect(startScriptNodeFlags("node --max-semi-space-size=64 --trace-gc --import tsx app/main.ts")).toEqual(["--max-semi-space-size=64", "--trace-gc"]);
  });

  it("refuses a start script of another shape, rather than benchmarking a server run otherwise", () => {
    expect(() => startScriptNodeFlags("tsx app/main.ts")).toThrow(/start script/);
    expect(() => startScriptNodeFlags("node --import tsx app/other.ts")).toThrow(/start script/);
  });

  it("are read from package.json's own start script, which sizes the young generation for throughput", () => {
    expect(startScriptNodeFlags()).toContain("--max-semi-space-size=64");
  });
});

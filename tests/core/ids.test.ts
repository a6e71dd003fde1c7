import { describe, expect, it } from "vitest";
import { isId, newId, timeOfId } from "../../core/ids.ts";

describe("ids", () => {
  it("carry their kind's prefix", () => {
    expect(newId("request")).toMatch(/^req_[0-9a-z]{26}$/);
    expect(newId("advisor")).toMatch(/^adv_/);
    expect(newId("transaction")).toMatch(/^txn_/);
  });

  it("sort by creation time", () => {
    const earlier = newId("offer", Date.UTC(2026, 0, 1));
    const later = newId("offer", Date.UTC(2026, 0, 1, 0, 0, 0, 1));
    expect(earlier < later).toBe(true);
  });

  it("carry their creation time, which timeOfId reads back to the millisecond", () => {
    const at = Date.UTC(2026, 11, 6, 18, 0, 0, 123);
    expect(timeOfId(newId("request", at))).toBe(at);
    expect(timeOfId(newId("request", at + 1))).toBe(at + 1);
    expect(timeOfId("req_ILLEGAL!")).toBeNull();
    expect(timeOfId("noprefix")).toBeNull();
  });

  it("are unique under load", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newId("offer", 1)));
    expect(ids.size).toBe(10_000);
  });

  it("validate kind and shape", () => {
    expect(isId("client", newId("client"))).toBe(true);
    expect(isId("client", newId("advisor"))).toBe(false);
    expect(isId("client", "cli_DROP TABLE")).toBe(false);
    expect(isId("client", "cli_")).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { copyPlain } from "../../matching/store/memory/copy.ts";

describe("copyPlain (the memory store's defensive copy)", () => {
  it("copies plain data deeply, so the copy shares nothing with the original", () => {
    const original = { a: 1, b: "x", c: null, d: [1, { e: true }], f: { g: [null, 2.5] } };
    const copied = copyPlain(original);
    expect(copied).toEqual(original);
    copied.d.push(3);
    (copied.d[1] as { e: boolean }).e = false;
    copied.f.g[1] = 0;
    expect(original).toEqual({ a: 1, b: "x", c: null, d: [1, { e: true }], f: { g: [null, 2.5] } });
  });

  it("refuses what is not plain data instead of copying it wrongly", () => {
    expect(() => copyPlain({ when: new Date(0) })).toThrow(/not plain data \(Date\)/);
    expect(() => copyPlain([new Map()])).toThrow(/Map/);
  });
});

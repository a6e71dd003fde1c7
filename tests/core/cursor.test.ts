/** Page cursors (core/cursor.ts): what encodes decodes back, anything else is refused, pages end right. */
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, pageOf, rowKeys } from "../../core/cursor.ts";

describe("page cursors", () => {
  it("decodes what it encoded", () => {
    const keys = { at: Date.UTC(2026, 0, 5, 9, 0, 0, 123), id: "req_01jd0000000000000000000000" };
    const cursor = encodeCursor(keys);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(keys);
  });

  it.each([
    ["empty", ""],
    ["not base64url", "a+b/c="],
    ["not JSON", Buffer.from("nope").toString("base64url")],
    ["missing id", Buffer.from(JSON.stringify({ at: 1 })).toString("base64url")],
    ["extra key", Buffer.from(JSON.stringify({ at: 1e12, id: "req_x1", more: 1 })).toString("base64url")],
    ["fractional time", Buffer.from(JSON.stringify({ at: 1.5e12 + 0.5, id: "req_x1" })).toString("base64url")],
    ["time out of range", Buffer.from(JSON.stringify({ at: 1e16, id: "req_x1" })).toString("base64url")],
    ["not an id", Buffer.from(JSON.stringify({ at: 1e12, id: "' OR 1=1 --" })).toString("base64url")],
    ["too long", "A".repeat(300)],
  ])("refuses %s", (_, raw) => {
    expect(decodeCursor(raw)).toBeNull();
  });

  it("gives a cursor only when a further row was fetched, naming the last row shown", () => {
    const rows = [3, 2, 1].map((n) => ({ id: `req_${n}`, createdAt: new Date(n * 1000) }));
    expect(pageOf(rows, 3, rowKeys)).toEqual({ items: rows, nextCursor: null });
    const page = pageOf(rows, 2, rowKeys);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(decodeCursor(page.nextCursor!)).toEqual({ at: 2000, id: "req_2" });
  });
});

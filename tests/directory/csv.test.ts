/** The strict CSV reader behind uploads: RFC 4180 quoting, header matching, line numbers, limits. */
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../directory/csv.ts";

const COLUMNS = ["kind", "number", "status", "validUntil"] as const;
const read = (text: string, maxRecords = 100) => parseCsv(text, { columns: COLUMNS, maxRecords });

describe("parseCsv", () => {
  it("reads records by header name, in any column order, with their line numbers", () => {
    const result = read("status,kind,validUntil,number\nsuspended,fund_sales,,FS-1\nactive,insurance,2030-01-01T00:00:00Z,IN-2\n");
    expect(result).toEqual({
      ok: true,
      records: [
        { line: 2, values: { status: "suspended", kind: "fund_sales", validUntil: "", number: "FS-1" } },
        { line: 3, values: { status: "active", kind: "insurance", validUntil: "2030-01-01T00:00:00Z", number: "IN-2" } },
      ],
    });
  });

  it("accepts CRLF, a byte order mark, a missing final newline and blank lines", () => {
    const result = read("\uFEFFkind,number,status,validUntil\r\nfund_sales,FS-1,active,\r\n\r\nfutures,FU-2,revoked,");
    expect(result).toEqual({
      ok: true,
      records: [
        { line: 2, values: { kind: "fund_sales", number: "FS-1", status: "active", validUntil: "" } },
        { line: 4, values: { kind: "futures", number: "FU-2", status: "revoked", validUntil: "" } },
      ],
    });
  });

  it("unquotes quoted fields: commas, doubled quotes and line breaks inside; lines count from where a record starts", () => {
    const result = read('kind,number,status,validUntil\nfund_sales,"FS, ""A""\nline two",active,""\nfutures,FU-3,active,\n');
    expect(result).toEqual({
      ok: true,
      records: [
        { line: 2, values: { kind: "fund_sales", number: 'FS, "A"\nline two', status: "active", validUntil: "" } },
        { line: 4, values: { kind: "futures", number: "FU-3", status: "active", validUntil: "" } },
      ],
    });
  });

  it("requires the header row with exactly the expected columns, naming every problem", () => {
    expect(read("")).toEqual({ ok: false, problems: [{ line: 1, message: expect.stringContaining("header row is missing") }] });
    expect(read("\n\n")).toMatchObject({ ok: false, problems: [{ line: 1 }] });
    // A data row where the header should be is an unknown-column header, not data.
    const noHeader = read("fund_sales,FS-1,active,\n");
    expect(noHeader.ok).toBe(false);
    if (!noHeader.ok) expect(noHeader.problems.map((p) => p.field)).toEqual(["fund_sales", "FS-1", "active", "", "kind", "number", "status", "validUntil"]);

    const result = read("kind,number,state,kind\nfund_sales,FS-1,active,\n");
    expect(result).toEqual({
      ok: false,
      problems: [
        { line: 1, field: "state", message: expect.stringContaining("unknown column") },
        { line: 1, field: "kind", message: expect.stringContaining("twice") },
        { line: 1, field: "status", message: expect.stringContaining("missing") },
        { line: 1, field: "validUntil", message: expect.stringContaining("missing") },
      ],
    });
    expect(read("kind,number,status\nfund_sales,FS-1,active\n")).toEqual({
      ok: false,
      problems: [{ line: 1, field: "validUntil", message: expect.stringContaining("missing") }],
    });
  });

  it("header names are trimmed but not case-folded", () => {
    expect(read(" kind , number,status ,validUntil\nfund_sales,FS-1,active,\n").ok).toBe(true);
    expect(read("Kind,number,status,validUntil\nfund_sales,FS-1,active,\n").ok).toBe(false);
  });

  it("names every row with the wrong number of fields", () => {
    const result = read("kind,number,status,validUntil\nfund_sales,FS-1,active\nfund_sales,FS-2,active,,\nfund_sales,FS-3,active,\n");
    expect(result).toEqual({
      ok: false,
      problems: [
        { line: 2, message: "expected 4 fields, got 3" },
        { line: 3, message: "expected 4 fields, got 5" },
      ],
    });
  });

  it("refuses malformed quoting with the line it is on", () => {
    const header = "kind,number,status,validUntil\n";
    expect(read(`${header}fund_sales,"FS-1,active,\nfutures,FU-2,active,\n`)).toEqual({
      ok: false,
      problems: [{ line: 2, message: "a quoted field is never closed" }],
    });
    expect(read(`${header}fund_sales,FS-1,active,\nfund_sales,"FS"2,active,\n`)).toEqual({
      ok: false,
      problems: [{ line: 3, message: expect.stringContaining("followed by a comma") }],
    });
    expect(read(`${header}fund_sales,F"S,active,\n`)).toEqual({
      ok: false,
      problems: [{ line: 2, message: expect.stringContaining("quote inside an unquoted field") }],
    });
    expect(read(`${header}fund_sales,FS\r1,active,\n`)).toEqual({ ok: false, problems: [{ line: 2, message: expect.stringContaining("carriage return") }] });
  });

  it("refuses a lone carriage return inside quotes too (csv-parse would count it as a line), naming its line", () => {
    expect(read('kind,number,status,validUntil\nfund_sales,FS-1,active,\nfund_sales,"FS\r2",active,\n')).toEqual({
      ok: false,
      problems: [{ line: 3, message: "a carriage return must be followed by a line feed" }],
    });
    // A CRLF inside quotes is a line break like any other: the next record's line still counts right.
    expect(read('kind,number,status,validUntil\r\nfund_sales,"FS\r\n1",active,\r\nfutures,FU-2,active,\r\n')).toMatchObject({
      ok: true,
      records: [{ line: 2 }, { line: 4 }],
    });
  });

  it("refuses more records than the limit, naming the first line over it", () => {
    const rows = Array.from({ length: 4 }, (_, i) => `fund_sales,FS-${i},active,`).join("\n");
    expect(read(`kind,number,status,validUntil\n${rows}\n`, 3)).toEqual({ ok: false, problems: [{ line: 5, message: "at most 3 rows per file" }] });
    expect(read(`kind,number,status,validUntil\n${rows}\n`, 4).ok).toBe(true);
  });
});

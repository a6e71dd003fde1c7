/**
 * A strict CSV reader for uploads people prepare by hand or export from a spreadsheet (RFC 4180:
 * comma separated, double-quoted fields with "" for a quote, CRLF or LF line ends), on csv-parse.
 *
 * Strict because an upload changes regulated data: the header row is required and must name exactly
 * the expected columns (in any order, each once), every record must have exactly one field per
 * column, and anything malformed is a problem that names its line, never a guess. Line numbers are
 * the physical line a record starts on (the header is line 1), so they match what an editor shows
 * even when a quoted field spans lines.
 */

import { parse } from "csv-parse/sync";

const BYTE_ORDER_MARK = "\uFEFF";

export interface CsvProblem {
  line: number;
  /** The column concerned, when there is one. */
  field?: string;
  message: string;
}

export interface CsvRecord<C extends string> {
  line: number;
  values: Record<C, string>;
}

export type CsvResult<C extends string> = { ok: true; records: Array<CsvRecord<C>> } | { ok: false; problems: CsvProblem[] };

export interface CsvOptions<C extends string> {
  columns: readonly C[];
  /** Data records allowed (the header not counted); more is one problem, not a truncation. */
  maxRecords: number;
}

/** One record as split from the text, before it is matched against the header. */
interface RawRecord {
  line: number;
  fields: string[];
}

type Split = { ok: true; records: RawRecord[] } | { ok: false; problem: CsvProblem };

export function parseCsv<C extends string>(text: string, options: CsvOptions<C>): CsvResult<C> {
  const split = splitRecords(text);
  if (!split.ok) return { ok: false, problems: [split.problem] };
  const [header, ...rows] = split.records;
  if (!header) return { ok: false, problems: [{ line: 1, message: `the header row is missing: expected ${options.columns.join(",")}` }] };

  const columns = matchHeader(header, options.columns);
  if (!columns.ok) return { ok: false, problems: columns.problems };
  if (rows.length > options.maxRecords) {
    return { ok: false, problems: [{ line: rows[options.maxRecords]!.line, message: `at most ${options.maxRecords} rows per file` }] };
  }

  const problems: CsvProblem[] = [];
  const out: Array<CsvRecord<C>> = [];
  for (const row of rows) {
    if (row.fields.length !== columns.order.length) {
      problems.push({ line: row.line, message: `expected ${columns.order.length} fields, got ${row.fields.length}` });
      continue;
    }
    const values = {} as Record<C, string>;
    columns.order.forEach((column, index) => {
      values[column] = row.fields[index]!;
    });
    out.push({ line: row.line, values });
  }
  return problems.length ? { ok: false, problems } : { ok: true, records: out };
}

/** The header's columns in file order, when they are exactly the expected set. */
function matchHeader<C extends string>(header: RawRecord, expected: readonly C[]): { ok: true; order: C[] } | { ok: false; problems: CsvProblem[] } {
  const names = header.fields.map((name) => name.trim());
  const known = new Set<string>(expected);
  const problems: CsvProblem[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (!known.has(name)) problems.push({ line: header.line, field: name, message: `unknown column "${name}": expected ${expected.join(",")}` });
    else if (seen.has(name)) problems.push({ line: header.line, field: name, message: `column "${name}" appears twice` });
    seen.add(name);
  }
  for (const column of expected) {
    if (!seen.has(column)) problems.push({ line: header.line, field: column, message: `column "${column}" is missing` });
  }
  return problems.length ? { ok: false, problems } : { ok: true, order: names as C[] };
}

/** How often `pattern` occurs in a record's values. */
const occurrences = (values: string[], pattern: RegExp): number => values.reduce((n, value) => n + (value.match(pattern)?.length ?? 0), 0);

/** The first line after `line` that holds something (blank lines carry no record). */
function nextRecordLine(text: string, line: number): number {
  const lines = text.split("\n");
  let next = line + 1;
  while (next <= lines.length && lines[next - 1]!.replace(/\r$/, "") === "") next++;
  return next;
}

/** csv-parse's error codes, as the line-numbered problems users read. */
const QUOTING_PROBLEMS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "a quoted field is never closed",
  CSV_INVALID_CLOSING_QUOTE: "a quoted field must be followed by a comma or the end of the line",
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field: quote the whole field and write "" for a quote',
};

/**
 * Splits the text into records of fields with csv-parse (RFC 4180; a byte order mark and blank
 * lines skipped; LF or CRLF). Fails on the first syntax error, because after a stray or
 * unterminated quote the rest of the file cannot be read reliably. A carriage return must start a
 * CRLF: a lone one (old Mac line ends, a paste) is refused before parsing, wherever it is.
 */
function splitRecords(text: string): Split {
  const loneCr = /\r(?!\n)/.exec(text);
  if (loneCr) {
    const line = 1 + (text.slice(0, loneCr.index).match(/\n/g)?.length ?? 0);
    return { ok: false, problem: { line, message: "a carriage return must be followed by a line feed" } };
  }
  const body = text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
  let lastLine = 0;
  const lines: number[] = [];
  // csv-parse counts a CR and an LF inside quotes as a line each, so a quoted CRLF counts twice:
  // `extra` is how many lines it has counted too many so far.
  let extra = 0;
  try {
    const parsed = parse(body, {
      relax_column_count: true, // counted per row here, so every wrong row is named, not just the first
      skip_empty_lines: true,
      record_delimiter: ["\r\n", "\n"],
      // context.lines is the line a record ends on (as csv-parse counts): it starts as many lines
      // earlier as it holds line break characters.
      on_record: (record: string[], context) => {
        lines.push(context.lines - extra - occurrences(record, /[\r\n]/g));
        extra += occurrences(record, /\r\n/g);
        lastLine = context.lines - extra;
        return record;
      },
    });
    return { ok: true, records: parsed.map((fields, i) => ({ line: lines[i]!, fields })) };
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    const message = QUOTING_PROBLEMS[code];
    if (!message) throw error;
    // An unclosed quote is only found at the end of the text: name the record it opened in.
    const at = (error as { lines?: number }).lines;
    const line = code === "CSV_QUOTE_NOT_CLOSED" || at === undefined ? nextRecordLine(body, lastLine) : at - extra;
    return { ok: false, problem: { line, message } };
  }
}

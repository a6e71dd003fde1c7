/**
 * A small, strict CSV reader for uploads people prepare by hand or export from a spreadsheet
 * (RFC 4180: comma separated, double-quoted fields with "" for a quote, CRLF or LF line ends).
 *
 * Strict because an upload changes regulated data: the header row is required and must name exactly
 * the expected columns (in any order, each once), every record must have exactly one field per
 * column, and anything malformed is a problem that names its line, never a guess. Line numbers are
 * the physical line a record starts on (the header is line 1), so they match what an editor shows
 * even when a quoted field spans lines.
 */

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

const BYTE_ORDER_MARK = "\uFEFF";

export function parseCsv<C extends string>(text: string, options: CsvOptions<C>): CsvResult<C> {
  const split = splitRecords(text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text);
  if (!split.ok) return { ok: false, problems: [split.problem] };
  // A line with nothing on it carries no record (trailing newlines, spacing left by an editor).
  const records = split.records.filter((r) => !(r.fields.length === 1 && r.fields[0] === ""));
  const [header, ...rows] = records;
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
    columns.order.forEach((column, index) => (values[column] = row.fields[index]!));
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

/**
 * Splits the text into records of fields. Fails on the first syntax error, because after a stray
 * or unterminated quote the rest of the file cannot be read reliably.
 */
function splitRecords(text: string): Split {
  const records: RawRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  /** The current field was quoted and its closing quote has been read: only a separator may follow. */
  let closed = false;
  let quoteLine = 1;

  const endField = () => {
    fields.push(field);
    field = "";
    closed = false;
  };
  const endRecord = () => {
    endField();
    records.push({ line: recordLine, fields });
    fields = [];
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          closed = true;
        }
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === ",") {
      endField();
    } else if (ch === "\n" || (ch === "\r" && text[i + 1] === "\n")) {
      if (ch === "\r") i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (closed) {
      return { ok: false, problem: { line, message: "a quoted field must be followed by a comma or the end of the line" } };
    } else if (ch === '"') {
      if (field !== "") return { ok: false, problem: { line, message: 'a quote inside an unquoted field: quote the whole field and write "" for a quote' } };
      quoted = true;
      quoteLine = line;
    } else if (ch === "\r") {
      return { ok: false, problem: { line, message: "a carriage return outside quotes must be followed by a line feed" } };
    } else {
      field += ch;
    }
  }
  if (quoted) return { ok: false, problem: { line: quoteLine, message: "a quoted field is never closed" } };
  // The last record needs no line end.
  if (fields.length > 0 || field !== "" || closed) endRecord();
  return { ok: true, records };
}

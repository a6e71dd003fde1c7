/**
 * Well-formed text. A JavaScript string may hold a lone surrogate (JSON's "\udc00" escape makes one),
 * which UTF-8 cannot encode: PostgreSQL would store U+FFFD instead, so a hash taken of the string
 * before storing it would never match what was stored. Input is therefore refused unless it is
 * well-formed (a surrogate pair is one code point to a `u` regex, so only lone halves match below).
 */

/** What a refused field is told. */
export const NOT_WELL_FORMED = "must be well-formed Unicode (it holds a lone surrogate)";

const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The text as UTF-8 storage keeps it: every lone surrogate replaced by U+FFFD. */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATES, "\uFFFD");
}

/**
 * The path of the first string (value or object key) in a JSON-like value that is not well-formed,
 * or null when there is none. Walks plain objects and arrays only.
 */
export function illFormedPath(value: unknown, path: Array<string | number> = []): Array<string | number> | null {
  if (typeof value === "string") return isWellFormed(value) ? null : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = illFormedPath(value[i], [...path, i]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, inner] of Object.entries(value)) {
      if (!isWellFormed(key)) return [...path, key];
      const found = illFormedPath(inner, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const NEWLINE = 0x0a;

/** The 1-based line holding the first byte sequence that is not valid UTF-8, or null when all of it is. */
export function invalidUtf8Line(bytes: Uint8Array): number | null {
  try {
    strictUtf8.decode(bytes);
    return null;
  } catch {
    // Only on the failure path: find the line, so a person can fix their file.
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === NEWLINE) {
        try {
          strictUtf8.decode(bytes.subarray(start, i));
        } catch {
          return line;
        }
        line++;
        start = i + 1;
      }
    }
    return line;
  }
}

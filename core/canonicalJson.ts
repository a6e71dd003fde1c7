/**
 * Canonical JSON: object keys sorted at every depth, so equal values give equal text, and a hash of
 * the text identifies the value. The audit and message chains hash it (compliance/audit/hash.ts),
 * and so do idempotency keys' input hashes (incentives/ledger/inputHash.ts).
 */
import { toWellFormed } from "./unicode.ts";

/**
 * Strings are hashed as UTF-8 storage keeps them (a lone surrogate becomes U+FFFD), so a hash taken
 * before storing always matches the stored row. The API refuses such strings anyway; this keeps any
 * other writer from breaking a chain. Well-formed text is unchanged, so existing chains verify as before.
 */
function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return toWellFormed(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[toWellFormed(key)] = normalise(v);
    }
    return out;
  }
  return value;
}

/** JSON with object keys sorted at every depth; Dates as ISO strings, bigints as decimal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

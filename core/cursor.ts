/**
 * Keyset pagination, shared by every list: rows are ordered by (createdAt, id), the id being the
 * unique tie-breaker, and a cursor is the last row's keys as base64url JSON. A page continues
 * strictly after those keys, so rows inserted meanwhile never shift a page (no duplicates, no
 * gaps), unlike an offset. The cursor is opaque to callers; decodeCursor refuses anything this
 * module did not write, and the API answers that with a 400.
 */
import { z } from "zod";

/** The sort keys of a row: its createdAt in epoch milliseconds and its id. */
export interface CursorKeys {
  at: number;
  id: string;
}

export type SortOrder = "asc" | "desc";

/** A page of a list: the rows and the cursor for the next page (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The page a caller asks for: at most `limit` rows after `after` (null: from the start). */
export interface PageQuery {
  limit: number;
  after: CursorKeys | null;
}

/** Years 1900-9999 in epoch ms: what PostgreSQL and the Instant schema both hold. */
const MIN_AT = Date.UTC(1900, 0, 1);
const MAX_AT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** A cursor is short; refusing long strings early keeps garbage out of JSON.parse. */
export const MAX_CURSOR_LENGTH = 256;

const KeysSchema = z
  .object({
    at: z.number().int().min(MIN_AT).max(MAX_AT),
    id: z
      .string()
      .min(5)
      .max(64)
      .regex(/^[a-z]{3}_[0-9a-z_]+$/),
  })
  .strict();

export function encodeCursor(keys: CursorKeys): string {
  return Buffer.from(JSON.stringify({ at: keys.at, id: keys.id }), "utf8").toString("base64url");
}

/** The keys a cursor holds, or null when it is not one this module wrote. */
export function decodeCursor(raw: string): CursorKeys | null {
  if (raw.length === 0 || raw.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const keys = KeysSchema.safeParse(parsed);
  return keys.success ? keys.data : null;
}

/**
 * The page from rows fetched with `take: limit + 1` in list order: the extra row only says that
 * another page exists, and the cursor names the last row shown.
 */
export function pageOf<T>(rows: T[], limit: number, keysOf: (row: T) => CursorKeys): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keysOf(items[items.length - 1]!)) };
}

/** The keys of a row with createdAt and id, the sort keys of every list. */
export const rowKeys = (row: { createdAt: Date; id: string }): CursorKeys => ({ at: row.createdAt.getTime(), id: row.id });

/**
 * The where clause for "strictly after `after` in (createdAt, id) `order`", as Prisma reads it;
 * empty for the first page. (createdAt, id) is the index order, so PostgreSQL seeks rather than scans.
 */
export function afterKeys(after: CursorKeys | null, order: SortOrder) {
  if (!after) return {};
  const at = new Date(after.at);
  const past = order === "asc" ? { gt: at } : { lt: at };
  const pastId = order === "asc" ? { gt: after.id } : { lt: after.id };
  return { OR: [{ createdAt: past }, { createdAt: at, id: pastId }] };
}

/** The orderBy of a list in (createdAt, id) `order`. */
export const keyOrder = (order: SortOrder): Array<{ createdAt: SortOrder } | { id: SortOrder }> => [{ createdAt: order }, { id: order }];

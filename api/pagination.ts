/**
 * The pagination contract of every list route: `limit` (1..200, default 50) and an opaque `cursor`
 * in the query; `{ items, nextCursor }` in the answer. A cursor this API did not write fails
 * validation (400 VALIDATION_FAILED) rather than silently restarting the list. The keys and their
 * encoding are in core/cursor.ts, shared with the domain queries that page by them.
 */
import { z } from "@hono/zod-openapi";
import { decodeCursor, MAX_CURSOR_LENGTH, type Page, type PageQuery } from "../core/cursor.ts";

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

const Limit = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_LIMIT)
  .default(DEFAULT_PAGE_LIMIT)
  .openapi({ param: { name: "limit", in: "query" }, description: `page size, 1..${MAX_PAGE_LIMIT}` });

const Cursor = z
  .string()
  .max(MAX_CURSOR_LENGTH)
  .transform((raw, ctx) => {
    const keys = decodeCursor(raw);
    if (keys) return keys;
    ctx.addIssue({ code: "custom", message: "is not a cursor from this list; pass nextCursor of the previous page as is" });
    return z.NEVER;
  })
  .optional()
  .openapi({ param: { name: "cursor", in: "query" }, description: "nextCursor of the previous page", type: "string" });

/** The query parameters of a paged list; extend it with the list's filters. */
export const PageQuerySchema = z.object({ limit: Limit, cursor: Cursor });

/** What the domain query takes from the validated query. */
export function pageQuery(query: z.infer<typeof PageQuerySchema>): PageQuery {
  return { limit: query.limit, after: query.cursor ?? null };
}

/** The response body of a paged list of `item`. */
export function pageSchema<T extends z.ZodTypeAny>(item: T, name: string) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
}

/** A domain page shaped for the response, each row through `view`. */
export function pageView<T, V>(page: Page<T>, view: (row: T) => V): { items: V[]; nextCursor: string | null } {
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

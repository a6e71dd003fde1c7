/**
 * The input hash stored with an idempotency key: what the transaction does (its kind, branch, the
 * transaction it reverses, and its postings as a multiset), so a retry with the same key and the
 * same effect is a duplicate and the same key with another effect is a conflict. Memo and metadata
 * describe the transaction and are not part of it: a retry may word them differently.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/canonicalJson.ts";
import type { PostingInput } from "./post.ts";

export function ledgerInputHash(input: { kind: string; branchId?: string | null; reversesId?: string | null; postings: PostingInput[] }): string {
  // Posting order does not change a transaction's effect.
  const postings = input.postings.map((p) => [p.accountCode, p.amount] as const).sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x - y));
  const canonical = canonicalJson({ kind: input.kind, branchId: input.branchId ?? null, reversesId: input.reversesId ?? null, postings });
  return createHash("sha256").update(canonical).digest("hex");
}

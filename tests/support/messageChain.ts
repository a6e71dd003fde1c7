/**
 * A test-side check of one request's conversation chain (production verifies every chain in
 * compliance/audit/verify.ts), with the shared hashing rules of
 * compliance/audit/hash.ts: hash = sha256(prevHash + canonicalJson(messageHashFields(row))),
 * prevHash = the previous message's hash (GENESIS for seq 1).
 */
import { GENESIS, hashEntry, messageHashFields, type MessageHashFields } from "../../compliance/audit/hash.ts";

export type ChainCheck = { ok: true } | { ok: false; seq: number; reason: "seq_gap" | "prev_hash" | "hash" };

/** Checks messages given in seq order: seq 1..n without gaps, each prevHash linked, each hash recomputed. */
export function verifyMessageChain(rows: ReadonlyArray<MessageHashFields & { prevHash: string; hash: string }>): ChainCheck {
  let prev = GENESIS;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.seq !== i + 1) return { ok: false, seq: row.seq, reason: "seq_gap" };
    if (row.prevHash !== prev) return { ok: false, seq: row.seq, reason: "prev_hash" };
    if (hashEntry(prev, messageHashFields(row)) !== row.hash) return { ok: false, seq: row.seq, reason: "hash" };
    prev = row.hash;
  }
  return { ok: true };
}

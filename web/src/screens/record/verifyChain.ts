/**
 * Checks a request's conversation the way the audit does (compliance/audit/hash.ts): each message's
 * hash is sha256(prevHash + canonical JSON of its fields), and its prevHash is the previous message's
 * hash (GENESIS for the first). Runs in the browser with Web Crypto, which needs a secure context
 * (https, or localhost); elsewhere the check is reported as unavailable rather than guessed.
 */
import type { RecordMessage } from "./types.ts";

const GENESIS = "0".repeat(64);

export type ChainState =
  | { state: "verified"; messages: number }
  | { state: "broken"; seq: number; field: "prevHash" | "hash" }
  | { state: "unavailable"; reason: string };

/** The hashed fields with keys in sorted order, so JSON.stringify gives the canonical text. */
const canonical = (m: RecordMessage) =>
  JSON.stringify({
    body: m.body,
    id: m.id,
    requestId: m.requestId,
    senderId: m.senderId,
    senderRole: m.senderRole,
    sentAt: new Date(m.sentAt).toISOString(),
    seq: m.seq,
  });

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function verifyMessageChain(messages: RecordMessage[]): Promise<ChainState> {
  if (!globalThis.crypto?.subtle) return { state: "unavailable", reason: "this page is not in a secure context (https), so the browser cannot hash" };
  let prev = GENESIS;
  for (const m of [...messages].sort((a, b) => a.seq - b.seq)) {
    if (m.prevHash !== prev) return { state: "broken", seq: m.seq, field: "prevHash" };
    if ((await sha256Hex(prev + canonical(m))) !== m.hash) return { state: "broken", seq: m.seq, field: "hash" };
    prev = m.hash;
  }
  return { state: "verified", messages: messages.length };
}

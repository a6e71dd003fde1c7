/**
 * Hash chaining for the audit trail and the message log: canonical JSON (keys sorted, recursively)
 * and hashEntry(prevHash, entry) = sha256(prevHash + canonical(entry)). The first link of a chain
 * uses GENESIS as its prevHash.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/canonicalJson.ts";

export const GENESIS = "0".repeat(64);

export function hashEntry(prevHash: string, entry: unknown): string {
  return createHash("sha256")
    .update(prevHash + canonicalJson(entry))
    .digest("hex");
}

/** The fields of an AuditEvent that its hash covers (everything but seq and the hashes). */
export interface AuditHashFields {
  id: string;
  stream: string;
  streamSeq: number;
  at: Date | string;
  actor: string;
  action: string;
  subject: string;
  data: unknown;
}

export function auditHashFields(row: AuditHashFields): AuditHashFields {
  return {
    id: row.id,
    stream: row.stream,
    streamSeq: row.streamSeq,
    at: new Date(row.at),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    data: row.data,
  };
}

export interface MessageHashFields {
  id: string;
  requestId: string;
  senderId: string;
  senderRole: string;
  body: string;
  sentAt: Date | string;
  seq: number;
}

/**
 * The fields a Message's hash covers. Writers: `hash = hashEntry(prevHash, messageHashFields(row))`,
 * prevHash = the previous message's hash in the same request (by seq), GENESIS for the first.
 */
export function messageHashFields(row: MessageHashFields): MessageHashFields {
  return {
    id: row.id,
    requestId: row.requestId,
    senderId: row.senderId,
    senderRole: row.senderRole,
    body: row.body,
    sentAt: new Date(row.sentAt),
    seq: row.seq,
  };
}

/** The fields a seal's hash covers. */
export function sealHashFields(row: { at: Date | string; upToSeq: bigint | number | string; heads: unknown }) {
  return { at: new Date(row.at), upToSeq: String(row.upToSeq), heads: row.heads };
}

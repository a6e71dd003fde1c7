/**
 * Prefixed, time-ordered ids: `req_01jd…`. The prefix says what an id names; the body is a ULID-style
 * 48-bit millisecond timestamp plus 80 random bits in Crockford base32, so ids sort by creation time
 * and index well.
 */
import { randomBytes } from "node:crypto";

export const ID_PREFIXES = {
  branch: "brn",
  advisor: "adv",
  licence: "lic",
  client: "cli",
  request: "req",
  offer: "off",
  rating: "rat",
  connection: "con",
  message: "msg",
  auditEvent: "evt",
  ruleSet: "irs",
  account: "acc",
  transaction: "txn",
  award: "awd",
  settlement: "stl",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;
export type IdPrefix = (typeof ID_PREFIXES)[IdKind];

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function encodeTime(ms: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(): string {
  const bytes = randomBytes(16);
  let out = "";
  for (let i = 0; i < 16; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}

export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(nowMs)}${encodeRandom()}`;
}

const ID_BODY = /^[0-9a-z_]{1,64}$/;

/** True when value looks like an id of this kind (prefix and a plausible body); used to validate input. */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return value.startsWith(prefix) && ID_BODY.test(value.slice(prefix.length));
}

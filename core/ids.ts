/**
 * Prefixed, time-ordered ids: `req_01jd…`. The prefix says what an id names; the body is a ULID-style
 * 48-bit millisecond timestamp plus 80 random bits in Crockford base32, so ids sort by creation time
 * and index well.
 */
import { randomFillSync } from "node:crypto";

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
  presenceChange: "prs",
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

// One randomFillSync per 256 ids rather than a randomBytes call per id: the offer step names every
// ranked candidate's offer, and the per-call cost showed in the matching benchmark's profile. The
// bytes are the same CSPRNG's, each used once.
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;
let fillPool: (buffer: Buffer) => void = randomFillSync;

/**
 * Replaces the source of the ids' random bits (null: back to the CSPRNG). Only the day simulator
 * (simulation/) uses it: ids break ties in the engine's ordered sets (deadlines due at the same
 * millisecond), so a seeded run needs seeded ids to decide the same way every time.
 */
export function setIdEntropy(fill: ((buffer: Buffer) => void) | null): void {
  fillPool = fill ?? randomFillSync;
  poolOffset = POOL.length;
}

function encodeRandom(): string {
  if (poolOffset + 16 > POOL.length) {
    fillPool(POOL);
    poolOffset = 0;
  }
  let out = "";
  for (let i = poolOffset; i < poolOffset + 16; i++) out += ALPHABET[POOL[i]! & 31];
  poolOffset += 16;
  return out;
}

export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  return `${ID_PREFIXES[kind]}_${encodeTime(nowMs)}${encodeRandom()}`;
}

/**
 * The creation time an id carries (epoch ms), or null for a string not shaped like one of ours. Lets
 * a reader that holds only the id (the realtime fan-out, offering a request made on this process)
 * state when it was made without a read: newId's time is the creator's clock, e.g. the request's createdAt.
 */
export function timeOfId(id: string): number | null {
  const body = id.slice(id.indexOf("_") + 1);
  if (id.indexOf("_") < 0 || body.length < 10) return null;
  let ms = 0;
  for (const char of body.slice(0, 10)) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return null;
    ms = ms * 32 + digit;
  }
  return ms;
}

const ID_BODY = /^[0-9a-z_]{1,64}$/;

/** True when value looks like an id of this kind (prefix and a plausible body); used to validate input. */
export function isId(kind: IdKind, value: string): boolean {
  const prefix = `${ID_PREFIXES[kind]}_`;
  return value.startsWith(prefix) && ID_BODY.test(value.slice(prefix.length));
}

const BODY_LENGTH = 26;
const REQUEST_PREFIX = `${ID_PREFIXES.request}_`;
const OFFER_PREFIX = `${ID_PREFIXES.offer}_`;

/**
 * An offer's id carries its request's: `off_<request id body>_<own body>`, so accepting or
 * declining finds the request without a lookup (the offer's row may not be recorded yet).
 */
export function newOfferId(requestId: string, nowMs: number = Date.now()): string {
  return `${OFFER_PREFIX}${requestId.slice(REQUEST_PREFIX.length)}_${newId("offer", nowMs).slice(OFFER_PREFIX.length)}`;
}

/** The request an offer id names (see newOfferId), or null for an id of another shape (older offers). */
export function requestIdOfOffer(offerId: string): string | null {
  const body = offerId.slice(OFFER_PREFIX.length);
  if (!offerId.startsWith(OFFER_PREFIX) || body.length !== 2 * BODY_LENGTH + 1 || body[BODY_LENGTH] !== "_") return null;
  const request = body.slice(0, BODY_LENGTH);
  return /^[0-9a-z]+$/.test(request) ? `${REQUEST_PREFIX}${request}` : null;
}

/**
 * A fresh Idempotency-Key: 128 random bits as hex. crypto.getRandomValues, not randomUUID, because
 * randomUUID exists only in secure contexts, and a demo server is often reached over plain http on
 * a LAN address.
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

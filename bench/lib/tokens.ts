/**
 * Bearer tokens for benchmark servers, signed in-process with the secret the bench gives the server:
 * minting thousands through POST /v1/dev/token would load the server we are about to measure.
 */
import { issueToken, type Principal } from "../../api/auth/principal.ts";

/** JWT_SECRET of every server a benchmark starts (≥ 32 characters, fixed so tokens can be signed here). */
export const BENCH_JWT_SECRET = "bench-secret-not-for-production-0123456789";

export function benchToken(principal: Principal): Promise<string> {
  return issueToken(principal, BENCH_JWT_SECRET);
}

/**
 * The fault of a matching store whose live state is lost and not yet rebuilt (matching/store/port.ts,
 * "The live-state fence"). It lives in core because platform/unavailable.ts maps it to a 503 and
 * platform knows no domain; the store's port re-exports it.
 */

/**
 * The live state is missing or being rebuilt (the store port's "live-state fence"): nothing was done.
 * A fault, not an outcome: the caller retries shortly (the API answers 503 with Retry-After).
 */
export class LiveStateUnavailableError extends Error {
  override name = "LiveStateUnavailableError";
  constructor(
    readonly operation: string,
    detail = "the matching store lost its state and is being rebuilt",
  ) {
    super(`live state unavailable: ${detail} (${operation}); retry shortly`);
  }
}

/** True for a LiveStateUnavailableError, also one wrapped as another error's cause. */
export function isLiveStateUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof LiveStateUnavailableError) return true;
  }
  return false;
}

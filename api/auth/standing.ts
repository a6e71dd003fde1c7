/**
 * Offboarded advisors: their tokens stay cryptographically valid until they expire, so standing is
 * checked on every advisor call. An offboarded advisor may still read their own earnings, which they
 * are owed; everything else is refused with 403.
 *
 * An advisor found in good standing is remembered for a few seconds, which saves a directory read on
 * every call of an advisor's session (two per completed request). Offboarding forgets them at once
 * on the process that offboards, and on every other process through the session revocation it
 * broadcasts; if that broadcast were lost, the entry still lapses within STANDING_TTL_MS.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../core/errors.ts";
import type { AppEnv } from "../context.ts";
import type { Principal } from "./principal.ts";

const OFFBOARDED_ADVISOR_MAY = { method: "GET", path: "/v1/advisors/me/earnings" } as const;

/** How long an advisor found in good standing is trusted without another read. */
export const STANDING_TTL_MS = 10_000;

export interface AdvisorStanding {
  /** True when the principal is an advisor the firm has offboarded. */
  isOffboarded(principal: Principal): Promise<boolean>;
  /** Forgets what is known of these advisors (their sessions were revoked). */
  forget(advisorIds: string[]): void;
}

/** `offboarded` reads the directory (directory/advisors.ts, isAdvisorOffboarded); the cache is this file's. */
export function createAdvisorStanding(
  offboarded: (advisorId: string) => Promise<boolean>,
  options: { ttlMs?: number; now?: () => number } = {},
): AdvisorStanding {
  const ttlMs = options.ttlMs ?? STANDING_TTL_MS;
  const now = options.now ?? Date.now;
  const inGoodStanding = new Map<string, number>();
  return {
    async isOffboarded(principal) {
      if (principal.role !== "advisor") return false;
      const checkedAt = inGoodStanding.get(principal.sub);
      if (checkedAt !== undefined && now() - checkedAt < ttlMs) return false;
      const gone = await offboarded(principal.sub);
      if (gone) inGoodStanding.delete(principal.sub);
      else inGoodStanding.set(principal.sub, now());
      if (inGoodStanding.size > 100_000) inGoodStanding.clear();
      return gone;
    },
    forget(advisorIds) {
      for (const id of advisorIds) inGoodStanding.delete(id);
    },
  };
}

/** Runs after authentication on /v1/*. */
export function refuseOffboardedAdvisors(standing: AdvisorStanding): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    const allowed = c.req.method === OFFBOARDED_ADVISOR_MAY.method && c.req.path === OFFBOARDED_ADVISOR_MAY.path;
    if (principal && !allowed && (await standing.isOffboarded(principal))) {
      throw new AppError("FORBIDDEN", "this advisor has been offboarded: the token may only read its own earnings");
    }
    await next();
  };
}

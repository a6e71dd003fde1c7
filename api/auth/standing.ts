/**
 * Offboarded advisors: their tokens stay cryptographically valid until they expire, so standing is
 * checked on every advisor call against the directory (a primary-key read). An offboarded advisor
 * may still read their own earnings, which they are owed; everything else is refused with 403.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../../core/errors.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import type { AppEnv } from "../context.ts";
import type { Principal } from "./principal.ts";

const OFFBOARDED_ADVISOR_MAY = { method: "GET", path: "/v1/advisors/me/earnings" } as const;

/** True when the principal is an advisor the firm has offboarded. */
export async function isOffboardedAdvisor(prisma: PrismaClient, principal: Principal): Promise<boolean> {
  if (principal.role !== "advisor") return false;
  const advisor = await prisma.advisor.findUnique({ where: { id: principal.sub }, select: { status: true } });
  return advisor?.status === "offboarded";
}

/** Runs after authentication on /v1/*. */
export function refuseOffboardedAdvisors(prisma: PrismaClient): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    const allowed = c.req.method === OFFBOARDED_ADVISOR_MAY.method && c.req.path === OFFBOARDED_ADVISOR_MAY.path;
    if (principal && !allowed && (await isOffboardedAdvisor(prisma, principal))) {
      throw new AppError("FORBIDDEN", "this advisor has been offboarded: the token may only read its own earnings");
    }
    await next();
  };
}

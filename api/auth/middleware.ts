/**
 * Authentication for every /v1 route, and the authorization helpers route handlers use. Nothing
 * under /v1 is reachable without a valid token except the dev token endpoint (when enabled).
 */
import type { Context, MiddlewareHandler } from "hono";
import { AppError } from "../../core/errors.ts";
import type { AppEnv } from "../context.ts";
import { verifyToken, type Principal, type Role, type TokenRules } from "./principal.ts";

export function authenticate(rules: TokenRules): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match) throw new AppError("UNAUTHENTICATED", "send Authorization: Bearer <token>");
    const principal = await verifyToken(match[1]!, rules);
    if (!principal) throw new AppError("UNAUTHENTICATED", "the token is invalid or expired");
    c.set("principal", principal);
    await next();
  };
}

export function principalOf(c: Context<AppEnv>): Principal {
  const principal = c.get("principal");
  if (!principal) throw new AppError("UNAUTHENTICATED", "not authenticated");
  return principal;
}

/** The caller, who must have one of `roles`; 403 otherwise. */
export function requireRole(c: Context<AppEnv>, ...roles: Role[]): Principal {
  const principal = principalOf(c);
  if (!roles.includes(principal.role)) throw new AppError("FORBIDDEN", `this needs the ${roles.join(" or ")} role`);
  return principal;
}

/**
 * Branch scoping: admins reach every branch, managers only their own. Used on branch-addressed
 * routes, where the branch id is in the path, so a 403 reveals nothing the caller did not send.
 */
export function requireBranchAccess(principal: Principal, branchId: string): void {
  if (principal.role === "admin") return;
  if (principal.role === "manager" && principal.branchId === branchId) return;
  throw new AppError("FORBIDDEN", "this branch is not yours");
}

/** True when the principal may see data of this branch (admin, or its manager). */
export function canSeeBranch(principal: Principal, branchId: string): boolean {
  return principal.role === "admin" || (principal.role === "manager" && principal.branchId === branchId);
}

/** Who a request is visible to, as far as reading goes. */
export interface RequestAccess {
  clientId: string;
  branchId: string;
  assignedAdvisorId: string | null;
}

/** Who may read a request: its client, its assigned advisor, the branch's manager, admins, compliance. */
export function mayReadRequest(principal: Principal, request: RequestAccess): boolean {
  if (principal.role === "client") return request.clientId === principal.sub;
  if (principal.role === "advisor") return request.assignedAdvisorId === principal.sub;
  if (principal.role === "compliance") return true;
  return canSeeBranch(principal, request.branchId);
}

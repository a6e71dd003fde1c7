/**
 * Who is calling: the verified claims of a bearer token. Tokens are HS256 JWTs signed with
 * JWT_SECRET; claims are validated with zod, so a token with an unknown role never gets in.
 */
import { sign, verify } from "hono/jwt";
import { z } from "zod";

export const ROLES = ["client", "advisor", "manager", "compliance", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Subjects and branch ids are our ids or an operator's name for a service: printable ASCII only. */
const Subject = z.string().regex(/^[\x21-\x7e]{1,128}$/, "must be 1-128 printable ASCII characters without spaces");

const ClaimsSchema = z
  .object({
    sub: Subject,
    role: z.enum(ROLES),
    branchId: Subject.optional(),
    exp: z.number().int().optional(),
    iat: z.number().int().optional(),
  })
  .superRefine((claims, ctx) => {
    if ((claims.role === "advisor" || claims.role === "manager") && !claims.branchId) {
      ctx.addIssue({ code: "custom", path: ["branchId"], message: `${claims.role} tokens carry a branchId` });
    }
  });

export interface Principal {
  sub: string;
  role: Role;
  branchId?: string;
}

/** Default token lifetime: a working day. */
const DEFAULT_TTL_SECONDS = 12 * 3600;

export async function issueToken(principal: Principal, secret: string, ttlSeconds = DEFAULT_TTL_SECONDS): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign({ sub: principal.sub, role: principal.role, ...(principal.branchId ? { branchId: principal.branchId } : {}), iat: now, exp: now + ttlSeconds }, secret, "HS256");
}

/** The principal a token proves, or null when it is malformed, forged, expired or its claims are invalid. */
export async function verifyToken(token: string, secret: string): Promise<Principal | null> {
  try {
    const payload = await verify(token, secret, "HS256");
    const claims = ClaimsSchema.safeParse(payload);
    if (!claims.success) return null;
    return { sub: claims.data.sub, role: claims.data.role, ...(claims.data.branchId ? { branchId: claims.data.branchId } : {}) };
  } catch {
    return null;
  }
}

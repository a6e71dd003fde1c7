/**
 * Who is calling: the verified claims of a bearer token. Tokens are HS256 JWTs signed with
 * JWT_SECRET; claims are validated with zod, so a token with an unknown role never gets in. Every
 * token must expire: `exp` is required and may lie at most JWT_MAX_TTL_SECONDS after its issue, so
 * a leaked token is worth a bounded time; `iss` and `aud` are checked when they are configured.
 */
import { LRUCache } from "lru-cache";
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
    exp: z.number().int(),
    iat: z.number().int().optional(),
    iss: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
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

/** What a token must satisfy beyond its signature (from the config's `jwt`). */
export interface TokenRules {
  secret: string;
  /** The longest lifetime accepted: exp - iat, and exp - now. */
  maxTtlSeconds: number;
  /** When set, `iss` must equal it. */
  issuer?: string;
  /** When set, `aud` must be it or contain it. */
  audience?: string;
}

/** Clocks of the issuer and of this server may disagree by this much. */
const CLOCK_SKEW_SECONDS = 60;

/** Default token lifetime: a working day. */
const DEFAULT_TTL_SECONDS = 12 * 3600;

export async function issueToken(
  principal: Principal,
  secret: string,
  ttlSeconds = DEFAULT_TTL_SECONDS,
  scope: { issuer?: string; audience?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      sub: principal.sub,
      role: principal.role,
      ...(principal.branchId ? { branchId: principal.branchId } : {}),
      ...(scope.issuer ? { iss: scope.issuer } : {}),
      ...(scope.audience ? { aud: scope.audience } : {}),
      iat: now,
      exp: now + ttlSeconds,
    },
    secret,
    "HS256",
  );
}

/**
 * Tokens verified before, per rules, by their exact text. The HMAC check through WebCrypto showed as
 * about 4% of the server's CPU in the dispatch benchmark's profile, and a client or advisor sends the
 * same token with every call. A hit re-checks expiry; every other check (signature, claims, lifetime,
 * issuer, audience) only depends on the token and the rules, so it held then and holds now.
 * The least recently used are dropped past the cap.
 */
const VERIFIED_CAP = 10_000;
const verified = new WeakMap<TokenRules, LRUCache<string, { principal: Principal; exp: number }>>();

/**
 * The principal a token proves, or null when it is malformed, forged, expired, never expires, lives
 * longer than the rules allow, names another issuer or audience, or its claims are invalid.
 */
export async function verifyToken(token: string, rules: TokenRules): Promise<Principal | null> {
  let cache = verified.get(rules);
  if (!cache) {
    cache = new LRUCache({ max: VERIFIED_CAP });
    verified.set(rules, cache);
  }
  const hit = cache.get(token);
  if (hit) {
    if (hit.exp > Date.now() / 1000) return { ...hit.principal };
    cache.delete(token);
    return null;
  }
  const checked = await verifyUncached(token, rules);
  if (!checked) return null;
  const { exp, ...principal } = checked;
  cache.set(token, { principal, exp });
  return { ...principal };
}

async function verifyUncached(token: string, rules: TokenRules): Promise<(Principal & { exp: number }) | null> {
  try {
    const payload = await verify(token, rules.secret, "HS256");
    const parsed = ClaimsSchema.safeParse(payload);
    if (!parsed.success) return null;
    const claims = parsed.data;
    const now = Math.floor(Date.now() / 1000);
    if (claims.exp - (claims.iat ?? now) > rules.maxTtlSeconds) return null;
    if (claims.exp - now > rules.maxTtlSeconds + CLOCK_SKEW_SECONDS) return null;
    if (rules.issuer !== undefined && claims.iss !== rules.issuer) return null;
    if (rules.audience !== undefined && !(Array.isArray(claims.aud) ? claims.aud.includes(rules.audience) : claims.aud === rules.audience)) return null;
    return { sub: claims.sub, role: claims.role, ...(claims.branchId ? { branchId: claims.branchId } : {}), exp: claims.exp };
  } catch {
    return null;
  }
}

/** The token rules of a configuration. */
export function tokenRules(config: { jwtSecret: string; jwt: { maxTtlSeconds: number; issuer?: string; audience?: string } }): TokenRules {
  return { secret: config.jwtSecret, ...config.jwt };
}

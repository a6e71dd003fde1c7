/**
 * The signed-in session: the bearer token (kept in sessionStorage, so it ends with the tab) and the
 * claims read from it. The console never verifies the token itself: the API does, on every call.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { setTokenSource } from "../api/client.ts";
import { focusScreensFromNowOn } from "../components/ScreenHeading.tsx";

const STORAGE_KEY = "adx.console.token";

export interface Principal {
  sub: string;
  role: string;
  branchId?: string;
  /** Seconds since the epoch. */
  exp: number;
}

export interface Session {
  token: string | null;
  principal: Principal | null;
  signIn(token: string): string | null;
  signOut(): void;
}

/** The token's claims, or null when it is not a readable, unexpired JWT. */
export function readClaims(token: string): Principal | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(
      payload
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(payload.length / 4) * 4, "="),
    );
    const claims = JSON.parse(json) as Partial<Principal>;
    if (typeof claims.sub !== "string" || typeof claims.role !== "string" || typeof claims.exp !== "number") return null;
    if (claims.exp * 1000 <= Date.now()) return null;
    return { sub: claims.sub, role: claims.role, exp: claims.exp, ...(typeof claims.branchId === "string" ? { branchId: claims.branchId } : {}) };
  } catch {
    return null;
  }
}

function storedToken(): string | null {
  const token = sessionStorage.getItem(STORAGE_KEY);
  return token && readClaims(token) ? token : null;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState<string | null>(storedToken);
  setTokenSource(() => token);
  const signIn = useCallback((next: string) => {
    const trimmed = next.trim();
    if (!readClaims(trimmed)) return "this is not a valid, unexpired token";
    sessionStorage.setItem(STORAGE_KEY, trimmed);
    focusScreensFromNowOn();
    setTokenSource(() => trimmed);
    setToken(trimmed);
    return null;
  }, []);
  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    focusScreensFromNowOn();
    setToken(null);
  }, []);
  const value = useMemo(() => ({ token, principal: token ? readClaims(token) : null, signIn, signOut }), [token, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/**
 * The signed-in session: the bearer token and the claims read from it. The console keeps it in
 * sessionStorage, so it ends with the tab; the advisor app, installed on a phone, keeps it on the
 * device (localStorage) until it expires or the advisor signs out. The apps never verify the token
 * themselves: the API does, on every call.
 */
import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from "react";
import { setTokenSource } from "../api/client.ts";
import { focusScreensFromNowOn } from "../components/ScreenHeading.tsx";

export interface SessionStorageOptions {
  /** Where the token is kept; each app has its own, so signing in to one does not sign in to another. */
  storageKey: string;
  /** "tab": sessionStorage (ends with the tab); "device": localStorage (an installed app). */
  keep: "tab" | "device";
}

const CONSOLE_STORAGE: SessionStorageOptions = { storageKey: "adx.console.token", keep: "tab" };
const storageOf = (options: SessionStorageOptions): Storage => (options.keep === "device" ? localStorage : sessionStorage);

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

function storedToken(options: SessionStorageOptions): string | null {
  const token = storageOf(options).getItem(options.storageKey);
  return token && readClaims(token) ? token : null;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children, storage = CONSOLE_STORAGE }: { children: ReactNode; storage?: SessionStorageOptions }) {
  const [token, setToken] = useState<string | null>(() => storedToken(storage));
  setTokenSource(() => token);
  const signIn = useCallback(
    (next: string) => {
      const trimmed = next.trim();
      if (!readClaims(trimmed)) return "this is not a valid, unexpired token";
      storageOf(storage).setItem(storage.storageKey, trimmed);
      focusScreensFromNowOn();
      setTokenSource(() => trimmed);
      setToken(trimmed);
      return null;
    },
    [storage],
  );
  const signOut = useCallback(() => {
    storageOf(storage).removeItem(storage.storageKey);
    focusScreensFromNowOn();
    setToken(null);
  }, [storage]);
  const value = useMemo(() => ({ token, principal: token ? readClaims(token) : null, signIn, signOut }), [token, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
